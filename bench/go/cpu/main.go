// A CPU-bound Go program for the benchmarks: sha256 over a buffer, many rounds, a few
// allocations; prints a checksum so the work cannot be skipped.
package main

import (
	"crypto/sha256"
	"fmt"
	"os"
	"strconv"
)

func main() {
	rounds := 20000
	if len(os.Args) > 1 {
		rounds, _ = strconv.Atoi(os.Args[1])
	}
	buf := make([]byte, 64<<10)
	sum := sha256.Sum256(buf)
	for i := 0; i < rounds; i++ {
		copy(buf, sum[:])
		sum = sha256.Sum256(buf)
	}
	fmt.Printf("%x\n", sum[:8])
}

package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Println("Hello from Go in a nabla-build image!")
	for i, a := range os.Args[1:] {
		fmt.Printf("arg %d: %s\n", i+1, a)
	}
}

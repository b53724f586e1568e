// A starter app from `nabla-build init --lang go`: prints a line and its arguments.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Println("Hello from a nabla unikernel!")
	for i, arg := range os.Args[1:] {
		fmt.Printf("arg %d: %s\n", i+1, arg)
	}
}

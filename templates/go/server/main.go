// A starter HTTP server from `nabla-build init --lang go --server`. nabla.json lists its
// port, so the image takes the container's network; `nabla-build run` gives it what it
// needs and prints its URL.
package main

import (
	"fmt"
	"log"
	"net/http"
	"os"
)

func main() {
	port := "8080"
	if len(os.Args) > 1 {
		port = os.Args[1]
	}
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "Hello from a nabla unikernel!")
	})
	fmt.Println("listening on", port)
	log.Fatal(http.ListenAndServe(":"+port, nil))
}

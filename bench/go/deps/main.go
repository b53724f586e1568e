// Uses the golang.org/x packages Go vendors in its own source, as an app uses its dependencies:
// bench/rebuild.sh adds go.mod and vendor/ from the go toolchain image (GOROOT/src).
package main

import (
	"fmt"

	"golang.org/x/crypto/chacha20poly1305"
	"golang.org/x/crypto/sha3"
	"golang.org/x/net/dns/dnsmessage"
	"golang.org/x/net/http2/hpack"
	"golang.org/x/net/idna"
	"golang.org/x/text/unicode/norm"
)

func main() {
	host, _ := idna.ToASCII("bücher.example")
	var name dnsmessage.Name
	name, _ = dnsmessage.NewName(host + ".")
	fields := hpack.HuffmanEncodeLength("nabla")
	aead, _ := chacha20poly1305.New(make([]byte, chacha20poly1305.KeySize))
	fmt.Println(name.String(), fields, aead.Overhead(), sha3.Sum256([]byte("x"))[0], norm.NFC.String("e\u0301"))
}

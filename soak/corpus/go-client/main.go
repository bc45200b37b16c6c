// Sends one Go crypto/tls ClientHello (X25519MLKEM768 key share, post-quantum) to ADDR with
// server name NAME, for soak/corpus/capture.ts. Usage: go run main.go ADDR NAME
package main

import (
	"crypto/tls"
	"os"
)

func main() {
	conn, err := tls.Dial("tcp", os.Args[1], &tls.Config{ServerName: os.Args[2], InsecureSkipVerify: true})
	if err == nil {
		conn.Close()
	}
}

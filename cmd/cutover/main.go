// Command cutover runs the identity-and-device cutover of a Microsoft 365 tenant-to-tenant
// migration. See the README for what it does and how to use it.
package main

import (
	"os"

	"github.com/cutoverhq/cutover/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], cli.StandardStreams()))
}

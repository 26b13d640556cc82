package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/boxo-sim/boxo-sim/internal/docs"
)

func newContractCmd(e *env) *cobra.Command {
	var toc bool
	c := &cobra.Command{
		Use:   "contract [SECTION]",
		Short: "Print the Boxo Connect contract, or one section of it (e.g. 5.1, the error codes)",
		Long: `Print the contract boxo-sim's parties follow and its checker, relay mode and traces cite:
"contract §5.1" in a verdict or a violation is section 5.1 of this document. Each rule names
its source: a page of Boxo's documentation, a standard, or boxo-sim's own choice where Boxo
says nothing. Without SECTION the whole document is printed; --toc lists its sections.`,
		Example: `  boxo-sim contract 5.1     # the error codes
  boxo-sim contract 3.11    # what the miniapp receives at step 10
  boxo-sim contract --toc`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			switch {
			case toc:
				_, err := io.WriteString(e.stdout, strings.Join(docs.Titles(), "\n")+"\n")
				return err
			case len(args) == 0:
				_, err := io.WriteString(e.stdout, docs.Contract)
				return err
			}
			text, ok := docs.Section(args[0])
			if !ok {
				return fmt.Errorf("the contract has no section %q; 'boxo-sim contract --toc' lists them", args[0])
			}
			_, err := io.WriteString(e.stdout, text)
			return err
		},
	}
	c.Flags().BoolVar(&toc, "toc", false, "list the sections")
	return c
}

package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"strings"

	"github.com/spf13/cobra"

	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/internal/userdata"
)

func newUserdataCmd(e *env) *cobra.Command {
	c := &cobra.Command{
		Use:   "userdata",
		Short: "Encrypt and decrypt user_data as contract §7.2 does, to check your own implementation",
		Long: `With encrypted user data on, the host app answers step 9 with user_data as one string:
base64 of a 16-byte random IV followed by the AES-256-CBC encryption (PKCS#7 padding) of the
user object's JSON text, under a 32-byte key the host shares with the miniapp's owner. The
platform forwards it unchanged in step 10 as {"user_data": "<string>"} and the miniapp decrypts it.

These commands use the simulator's own implementation, so you can compare your host's output
or your miniapp's decryption with it. The key comes from --user-data-key, else from the
user_data_key setting (BOXO_SIM_USER_DATA_KEY or the config file). Input comes from the
argument, else stdin.

Exit status: 0 done; 1 the ciphertext is refused (what your miniapp must answer with
INVALID_USER_DATA); 2 a usage error such as a malformed key.`,
		Example: `  boxo-sim userdata key
  boxo-sim userdata encrypt --user-data-key u9Qd9wV0Z6Ho9_TzCYyVW_WwBJwL7KvSl4k8fmfaLyE= '{"reference":"u-42","email":"user@example.com"}'
  echo 'AAECAw...' | boxo-sim userdata decrypt --user-data-key u9Qd9wV0Z6Ho9_TzCYyVW_WwBJwL7KvSl4k8fmfaLyE=`,
		Args: cobra.NoArgs,
		RunE: groupHelp,
	}
	var keyText, ivHex string
	c.PersistentFlags().StringVar(&keyText, "user-data-key", "", "the 32-byte key in base64 (default: the user_data_key setting)")
	renamedFlag(c.PersistentFlags(), "key", "user-data-key")

	key := func(cmd *cobra.Command) (userdata.Key, error) {
		text := keyText
		if !cmd.Flags().Changed("user-data-key") {
			cfg, _, err := loadConfig(cmd.Flags(), e.getenv)
			if err != nil {
				return userdata.Key{}, usageError(e, err)
			}
			text = cfg.UserDataKey
		}
		if text == "" {
			return userdata.Key{}, usageError(e, errors.New("no key: give --user-data-key, or set user_data_key (BOXO_SIM_USER_DATA_KEY); make one with 'boxo-sim userdata key'"))
		}
		k, err := userdata.ParseKey(text)
		if err != nil {
			return userdata.Key{}, usageError(e, fmt.Errorf("--user-data-key: %w", err))
		}
		return k, nil
	}
	input := func(cmd *cobra.Command, args []string, what string) ([]byte, error) {
		if len(args) == 1 {
			return []byte(strings.TrimSpace(args[0])), nil
		}
		b, err := io.ReadAll(io.LimitReader(cmd.InOrStdin(), 1<<20))
		if err != nil {
			return nil, usageError(e, fmt.Errorf("read stdin: %w", err))
		}
		if b = bytes.TrimSpace(b); len(b) == 0 {
			return nil, usageError(e, fmt.Errorf("no input: give the %s as the argument or on stdin", what))
		}
		return b, nil
	}

	gen := &cobra.Command{
		Use:     "key",
		Short:   "Print a fresh random key (URL-safe base64, 44 characters)",
		Example: `  boxo-sim userdata key`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintln(e.stdout, userdata.NewKey().Text())
			return nil
		},
	}
	enc := &cobra.Command{
		Use:   "encrypt [JSON]",
		Short: "Encrypt a user object's JSON text; prints base64 (standard alphabet, padded)",
		Long: `Encrypt JSON (the argument, else stdin, surrounding white space removed) exactly as
given, byte for byte, with a fresh random IV, and print base64 of IV || ciphertext in the
standard alphabet with padding, as the simulated host app sends it. --iv fixes the IV, to
reproduce a known vector such as contract §7.2's; never reuse an IV with one key in production.`,
		Example: `  boxo-sim userdata encrypt --user-data-key u9Qd9wV0Z6Ho9_TzCYyVW_WwBJwL7KvSl4k8fmfaLyE= \
      --iv 000102030405060708090a0b0c0d0e0f '{"reference":"u-42","email":"user@example.com"}'`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			k, err := key(cmd)
			if err != nil {
				return err
			}
			pt, err := input(cmd, args, "user object's JSON")
			if err != nil {
				return err
			}
			var obj map[string]json.RawMessage
			if err := json.Unmarshal(pt, &obj); err != nil || obj == nil {
				return usageError(e, errors.New("the input must be a JSON object, the user data such as {\"reference\":\"u-42\",\"email\":\"user@example.com\"}"))
			}
			if !cmd.Flags().Changed("iv") {
				fmt.Fprintln(e.stdout, userdata.Encrypt(k, pt))
				return nil
			}
			b, err := hex.DecodeString(ivHex)
			if err != nil || len(b) != 16 {
				return usageError(e, errors.New("--iv must be 16 bytes in hex (32 characters), e.g. 000102030405060708090a0b0c0d0e0f"))
			}
			var iv [16]byte
			copy(iv[:], b)
			fmt.Fprintln(e.stdout, userdata.EncryptWithIV(k, iv, pt))
			return nil
		},
	}
	enc.Flags().StringVar(&ivHex, "iv", "", "use this IV (16 bytes in hex) instead of a random one, to reproduce a test vector")
	dec := &cobra.Command{
		Use:   "decrypt [CIPHERTEXT]",
		Short: "Decrypt user_data; prints the user object's JSON or why a miniapp must refuse it",
		Long: `Decrypt CIPHERTEXT (the argument, else stdin) as the simulated miniapp does: base64 in
either alphabet, with or without padding; at least 32 bytes; a multiple of 16 after the IV;
valid PKCS#7 padding; a JSON object inside. What fails one of these is refused with
INVALID_USER_DATA, and so is this command's exit status 1.`,
		Example: `  boxo-sim userdata decrypt --user-data-key u9Qd9wV0Z6Ho9_TzCYyVW_WwBJwL7KvSl4k8fmfaLyE= \
      AAECAwQFBgcICQoLDA0OD2i86XmGKp2dXGjLJmYwvzum4nyE4LSBhRmhGpnVRQVRqcZKtdklxDdAl/6UaEg1Dw==`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			k, err := key(cmd)
			if err != nil {
				return err
			}
			ct, err := input(cmd, args, "ciphertext")
			if err != nil {
				return err
			}
			pt, err := userdata.Decrypt(k, string(ct))
			if err != nil {
				fmt.Fprintf(e.stderr, "%s: %v\n", contract.CodeInvalidUserData, err)
				return exitError{code: exitFailed}
			}
			fmt.Fprintln(e.stdout, string(pt))
			var obj map[string]json.RawMessage
			if err := json.Unmarshal(pt, &obj); err != nil || obj == nil {
				fmt.Fprintf(e.stderr, "%s: it decrypts, but not to a JSON object\n", contract.CodeInvalidUserData)
				return exitError{code: exitFailed}
			}
			return nil
		},
	}
	c.AddCommand(gen, enc, dec)
	return c
}

package main

import (
	"github.com/spf13/cobra"

	"github.com/boxo-sim/boxo-sim/internal/stack"
)

// usersRecords: the host app's users (/_sim/users). The route's PUT replaces every field, so put
// reads the user first; the password is never shown, only whether one is set.
var usersRecords = recordKind{
	name: "user", party: stack.Hostapp, path: "/_sim/users", listKey: "users", keys: []string{"username"},
	columns:  []string{"username", "reference", "email", "phone", "first_name", "last_name", "has_password"},
	readOnly: []string{"id", "has_password", "created_at", "updated_at"},
	replaces: true,
	cmdPath:  "boxo-sim users", sample: "carol",
	putExample: `  boxo-sim users put dave --password pw --reference u-2001 --email dave@example.com
  boxo-sim users put dave --phone +6591230000 --email ""     # the other fields stay
  echo '{"password":"s3cret"}' | boxo-sim users put dave --file -`,
	fields: []recordField{
		{flag: "password", key: "password", kind: fieldSecret, usage: "the password to sign in with (visible to other local users in the process list: --file - keeps it off the command line)"},
		{flag: "reference", key: "reference", usage: "the user's reference, sent to the platform as user_reference (contract §1.2)"},
		{flag: "email", key: "email", usage: "e-mail address"},
		{flag: "phone", key: "phone", usage: "phone number (E.164, e.g. +6591234567)"},
		{flag: "first-name", key: "first_name", usage: "first name"},
		{flag: "last-name", key: "last_name", usage: "last name"},
		{flag: "custom-attributes", key: "custom_attributes", kind: fieldJSONObject, usage: `custom attributes, a JSON object such as '{"tier":"gold"}'`},
	},
}

func newUsersCmd(e *env) *cobra.Command {
	c := &cobra.Command{
		Use:   "users",
		Short: "List, show, create, change and delete the host app's users",
		Long: `Manage the users of the running host app (its /_sim/users routes): the people who sign
in at the host and whose data the platform asks for at step 8. Passwords are stored
hashed and never shown; 'get' says whether one is set.

The stack is found as for every client command: --platform-url (its host app), else the
'boxo-sim up' running on --data-dir, else the local one; --hostapp-url names the host app.
Exit status: 0 done, 1 the host app refused (its code and reason are printed; a missing
user says it does not exist), 2 a usage or setup error (bad flags, no stack, no admin token).`,
		Example: `  boxo-sim users list
  boxo-sim users get carol --json
  boxo-sim users put dave --password pw --reference u-2001 --email dave@example.com
  boxo-sim users put dave --phone +6591230000          # the other fields stay
  echo '{"password":"s3cret"}' | boxo-sim users put dave --file -
  boxo-sim users delete dave`,
	}
	addStackFlags(c)
	return recordGroup(c, newRecordCmds(e, usersRecords, "put")...)
}

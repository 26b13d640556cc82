package check

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/internal/userdata"
)

// The checks of a miniapp that takes encrypted user data (contract §7.2). They run when the
// configuration gives the key the miniapp decrypts with (MiniappConfig.UserDataKey); their
// requests carry {"user_data": "<base64>"} and nothing in plain, so a miniapp that takes only
// encrypted data is judged fairly: they need encrypted-valid, not valid-request.
var encryptedSteps = []step[*miniRun]{
	{Check{"encrypted-valid", "accepts encrypted user_data (standard base64 with padding): answers auth_token", "contract §7.2, §3.11"}, (*miniRun).encryptedValid},
	{Check{"encrypted-url-safe", "accepts encrypted user_data in the URL-safe alphabet without padding", "contract §7.2"}, (*miniRun).encryptedURLSafe},
	{Check{"encrypted-wrong-key", "refuses user_data encrypted with another key: INVALID_USER_DATA, no user created", "contract §7.2, §5.1"}, (*miniRun).encryptedWrongKey},
	{Check{"encrypted-short", "refuses user_data shorter than 32 bytes: INVALID_USER_DATA", "contract §7.2, §5.1"}, (*miniRun).encryptedShort},
	{Check{"encrypted-bad-length", "refuses a ciphertext that is not a multiple of 16 bytes: INVALID_USER_DATA", "contract §7.2, §5.1"}, (*miniRun).encryptedBadLength},
	{Check{"encrypted-bad-padding", "refuses invalid PKCS#7 padding: INVALID_USER_DATA, no user created", "contract §7.2, §5.1"}, (*miniRun).encryptedBadPadding},
	{Check{"encrypted-no-reference", "refuses encrypted user data without reference: INVALID_USER_DATA", "contract §7.2, §3.11"}, (*miniRun).encryptedNoReference},
}

// encryptedNeeds: every encrypted check but encrypted-valid needs it, which shows that the
// credentials and the key work; a refusal judged without it could be a refusal of anything.
var encryptedNeeds = func() needs {
	n := needs{}
	for _, s := range encryptedSteps[1:] {
		n[s.ID] = []string{"encrypted-valid"}
	}
	return n
}()

// EncryptedPlan lists the checks that run in addition to a miniapp plan when a user data key
// is given.
func EncryptedPlan() []Check { return checksOf(encryptedSteps) }

// sealed is step 10's encrypted body with the given text of the ciphertext.
func sealed(text string) []byte {
	b, _ := json.Marshal(map[string]string{"user_data": text})
	return b
}

func jsonOf(body map[string]any) []byte {
	b, _ := json.Marshal(body)
	return b
}

// encLogin is login with the body encrypted under the configured key.
func (m *miniRun) encLogin(ctx context.Context, label string, body map[string]any) (*call, answer) {
	return m.post(ctx, label, m.header(), sealed(userdata.Encrypt(m.key, jsonOf(body))))
}

func (m *miniRun) encryptedValid(ctx context.Context) verdict {
	c, a := m.encLogin(ctx, "a valid login with encrypted user_data", m.user(m.ref("enc-valid")))
	if !a.hasToken() || a.code != "" {
		return fail("encrypted user data under the configured key was answered "+describe(c, a, "auth_token")+
			"; the miniapp must decrypt {\"user_data\": \"<base64>\"} (AES-256-CBC, PKCS#7, IV first) with the key it shares with the host", c)
	}
	return pass("answered auth_token", c)
}

func (m *miniRun) encryptedURLSafe(ctx context.Context) verdict {
	raw, _ := base64.StdEncoding.DecodeString(userdata.Encrypt(m.key, jsonOf(m.user(m.ref("enc-url-safe")))))
	c, a := m.post(ctx, "encrypted user_data in URL-safe base64 without padding", m.header(), sealed(base64.RawURLEncoding.EncodeToString(raw)))
	if !a.hasToken() || a.code != "" {
		return fail("the URL-safe unpadded form was answered "+describe(c, a, "auth_token")+
			"; Boxo's Python sample encrypts in the URL-safe alphabet, so decryption must take both alphabets, with or without padding", c)
	}
	return pass("answered auth_token", c)
}

// encRefusal sends an encrypted body the miniapp must refuse with INVALID_USER_DATA and,
// when ref is not "", observes with a valid encrypted login of ref afterwards whether the
// refused one created the user (the refused body carries markedUser's fields).
func (m *miniRun) encRefusal(ctx context.Context, label, ref string, body []byte) verdict {
	c, a := m.post(ctx, label, m.header(), body)
	switch {
	case !c.answered():
		return fail("no answer: "+c.x.Error, c)
	case a.token != "":
		return fail(fmt.Sprintf("accepted it: answered %s", describe(c, a, "auth_token")), c)
	case a.code == "":
		return fail(fmt.Sprintf("answered %s; an error_code was expected", describe(c, a, "auth_token")), c)
	}
	status, msg := judgeCode(a.code, []string{contract.CodeInvalidUserData})
	if ref == "" {
		return verdict{status: status, message: msg, evidence: []*call{c}}
	}
	st, created, ev := m.observeCreationBy(ctx, ref, m.encLogin)
	return verdict{status: worst(status, st), message: msg + "; " + created, evidence: append([]*call{c}, ev...)}
}

func (m *miniRun) encryptedWrongKey(ctx context.Context) verdict {
	ref := m.ref("enc-wrong-key")
	return m.encRefusal(ctx, "user_data encrypted with another key", ref, sealed(userdata.Encrypt(userdata.NewKey(), jsonOf(m.markedUser(ref)))))
}

func (m *miniRun) encryptedShort(ctx context.Context) verdict {
	iv := make([]byte, 16)
	_, _ = rand.Read(iv)
	return m.encRefusal(ctx, "user_data of 16 bytes: an IV and no ciphertext", "", sealed(base64.StdEncoding.EncodeToString(iv)))
}

func (m *miniRun) encryptedBadLength(ctx context.Context) verdict {
	raw, _ := base64.StdEncoding.DecodeString(userdata.Encrypt(m.key, jsonOf(m.user(m.ref("enc-bad-length")))))
	raw = append(raw, make([]byte, 8)...)
	return m.encRefusal(ctx, "user_data whose ciphertext is 8 bytes longer than whole blocks", "", sealed(base64.StdEncoding.EncodeToString(raw)))
}

// encryptedBadPadding encrypts the user's JSON followed by spaces and a final byte that counts
// them all: what a decrypter that strips "last byte" bytes without checking them takes for
// valid JSON, but not PKCS#7 (every padding byte must equal the count).
func (m *miniRun) encryptedBadPadding(ctx context.Context) verdict {
	ref := m.ref("enc-bad-padding")
	plain := jsonOf(m.markedUser(ref))
	if len(plain)%16 == 15 {
		plain = append(plain, ' ') // JSON may end in white space; the padding needs 2 bytes at least
	}
	n := 16 - len(plain)%16
	padded := append(plain, []byte(strings.Repeat(" ", n-1))...)
	padded = append(padded, byte(n))
	var iv [16]byte
	_, _ = rand.Read(iv[:])
	text, err := userdata.EncryptBlocks(m.key, iv, padded)
	if err != nil {
		return fail("cannot build the request: " + err.Error())
	}
	return m.encRefusal(ctx, fmt.Sprintf("user_data whose padding is %d spaces and the byte %d, not %d bytes of %d", n-1, n, n, n), ref, sealed(text))
}

func (m *miniRun) encryptedNoReference(ctx context.Context) verdict {
	body := m.user("")
	delete(body, "reference")
	return m.encRefusal(ctx, "encrypted user data without reference", "", sealed(userdata.Encrypt(m.key, jsonOf(body))))
}

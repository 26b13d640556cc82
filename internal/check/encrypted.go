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

// The checks of a miniapp that takes encrypted user data (PROTOCOL §7.2). They run when the
// configuration gives the key the miniapp decrypts with (MiniappConfig.UserDataKey); every
// request carries {"user_data": "<base64>"} and nothing in plain, so a miniapp that accepts
// only encrypted data is judged fairly.
var encryptedSteps = []step[*miniRun]{
	{Check{"encrypted-valid", "accepts encrypted user_data (standard base64 with padding): answers auth_token", "PROTOCOL §7.2, §3.11"}, (*miniRun).encryptedValid},
	{Check{"encrypted-url-safe", "accepts encrypted user_data in the URL-safe alphabet without padding", "PROTOCOL §7.2"}, (*miniRun).encryptedURLSafe},
	{Check{"encrypted-wrong-key", "refuses user_data encrypted with another key: INVALID_USER_DATA, no user created", "PROTOCOL §7.2"}, (*miniRun).encryptedWrongKey},
	{Check{"encrypted-short", "refuses user_data shorter than 32 bytes: INVALID_USER_DATA", "PROTOCOL §7.2"}, (*miniRun).encryptedShort},
	{Check{"encrypted-bad-length", "refuses a ciphertext that is not a multiple of 16 bytes: INVALID_USER_DATA", "PROTOCOL §7.2"}, (*miniRun).encryptedBadLength},
	{Check{"encrypted-bad-padding", "refuses invalid PKCS#7 padding: INVALID_USER_DATA, no user created", "PROTOCOL §7.2"}, (*miniRun).encryptedBadPadding},
	{Check{"encrypted-no-reference", "refuses encrypted user data without reference: INVALID_USER_DATA", "PROTOCOL §7.2, §3.11"}, (*miniRun).encryptedNoReference},
}

// EncryptedPlan lists the checks that run in addition to MiniappPlan when a user data key is
// given.
func EncryptedPlan() []Check { return checksOf(encryptedSteps) }

// sealed is step 10's encrypted body for the user JSON plain, in the given text form of the
// ciphertext.
func sealed(text string) []byte {
	b, _ := json.Marshal(map[string]string{"user_data": text})
	return b
}

func (m *miniRun) userJSON(ref string) []byte {
	b, _ := json.Marshal(m.user(ref))
	return b
}

// encLogin is a valid encrypted login of ref.
func (m *miniRun) encLogin(ctx context.Context, label, ref string) (*call, answer) {
	return m.post(ctx, label, m.header(), sealed(userdata.Encrypt(m.key, m.userJSON(ref))))
}

func (m *miniRun) encryptedValid(ctx context.Context) verdict {
	c, a := m.encLogin(ctx, "a valid login with encrypted user_data", m.ref("enc-valid"))
	if !a.hasToken() || a.code != "" {
		return fail("encrypted user data under the configured key was answered "+describe(c, a, "auth_token")+
			"; the miniapp must decrypt {\"user_data\": \"<base64>\"} (AES-256-CBC, PKCS#7, IV first) with the key shared with the host", c)
	}
	return pass("answered auth_token", c)
}

func (m *miniRun) encryptedURLSafe(ctx context.Context) verdict {
	text := userdata.Encrypt(m.key, m.userJSON(m.ref("enc-url-safe")))
	raw, _ := base64.StdEncoding.DecodeString(text)
	urlSafe := base64.RawURLEncoding.EncodeToString(raw)
	c, a := m.post(ctx, "encrypted user_data in URL-safe base64 without padding", m.header(), sealed(urlSafe))
	if !a.hasToken() || a.code != "" {
		return fail("the URL-safe unpadded form was answered "+describe(c, a, "auth_token")+
			"; Boxo's Python sample encrypts in the URL-safe alphabet, so decryption must take both alphabets, with or without padding", c)
	}
	return pass("answered auth_token", c)
}

// encRefusal sends an encrypted body the miniapp must refuse with INVALID_USER_DATA and,
// when ref is not "", checks with a valid encrypted login of ref afterwards that the refused
// one created no user.
func (m *miniRun) encRefusal(ctx context.Context, label, ref string, body []byte) verdict {
	c, a := m.post(ctx, label, m.header(), body)
	v, ok := refused(c, a, "auth_token", contract.CodeInvalidUserData)
	if !ok || ref == "" {
		return v
	}
	lc, la := m.encLogin(ctx, "a valid encrypted login of the same reference afterwards", ref)
	ev := []*call{c, lc}
	if !la.hasToken() || la.code != "" {
		return warn(v.message+"; cannot observe whether a user was created: the valid login afterwards was answered "+describe(lc, la, "auth_token"), ev...)
	}
	id := m.identify(ctx, la.token)
	ev = append(ev, id.me)
	switch {
	case id.created == nil:
		return warn(v.message+"; cannot observe whether a user was created: "+id.how+" says nothing of creation", ev...)
	case !*id.created:
		return fail(v.message+fmt.Sprintf("; but the valid login afterwards found the user already existing (judged by %s): the refused request created it", id.how), ev...)
	}
	v.evidence = ev
	v.message += fmt.Sprintf("; no user was created (judged by %s)", id.how)
	return v
}

func (m *miniRun) encryptedWrongKey(ctx context.Context) verdict {
	ref := m.ref("enc-wrong-key")
	other := userdata.NewKey()
	return m.encRefusal(ctx, "user_data encrypted with another key", ref, sealed(userdata.Encrypt(other, m.userJSON(ref))))
}

func (m *miniRun) encryptedShort(ctx context.Context) verdict {
	iv := make([]byte, 16)
	_, _ = rand.Read(iv)
	return m.encRefusal(ctx, "user_data of 16 bytes: an IV and no ciphertext", "", sealed(base64.StdEncoding.EncodeToString(iv)))
}

func (m *miniRun) encryptedBadLength(ctx context.Context) verdict {
	raw, _ := base64.StdEncoding.DecodeString(userdata.Encrypt(m.key, m.userJSON(m.ref("enc-bad-length"))))
	raw = append(raw, make([]byte, 8)...)
	return m.encRefusal(ctx, "user_data whose ciphertext is 8 bytes longer than whole blocks", "", sealed(base64.StdEncoding.EncodeToString(raw)))
}

// encryptedBadPadding encrypts the user's JSON followed by spaces and a final byte that counts
// them all: what a decrypter that strips "last byte" bytes without checking them would take
// for valid JSON, but not valid PKCS#7 (every padding byte must equal the count).
func (m *miniRun) encryptedBadPadding(ctx context.Context) verdict {
	ref := m.ref("enc-bad-padding")
	plain := m.userJSON(ref)
	if len(plain)%16 == 15 {
		plain = append(plain, ' ') // JSON may end in white space; padding needs 2 bytes at least
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
	plain, _ := json.Marshal(body)
	return m.encRefusal(ctx, "encrypted user data without reference", "", sealed(userdata.Encrypt(m.key, plain)))
}

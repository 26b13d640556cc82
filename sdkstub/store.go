package sdkstub

// The token store on disk: with Config.TokenFile set, the SDK keeps its token pairs across
// processes, as a phone keeps them across app launches, so a later Connect finds the saved
// token (PROTOCOL §3.2 token, §3.3).

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// TokenFileName is the token store's file name in a data directory.
const TokenFileName = "sdk-tokens.json"

// storedFile is the token store file. Sessions of other platforms or host apps are kept as
// they are: one data directory may serve several.
type storedFile struct {
	Sessions []storedSession `json:"sessions"`
}

type storedSession struct {
	PlatformURL  string `json:"platform_url"`
	ClientID     string `json:"client_id"`
	User         string `json:"user"`
	AppID        string `json:"app_id"`
	Token        string `json:"token"`
	RefreshToken string `json:"refresh_token,omitempty"`
	MiniappBase  string `json:"miniapp_base"`
}

// load reads the token file into the SDK. A missing file is an empty store.
func (s *SDK) load() error {
	b, err := os.ReadFile(s.cfg.TokenFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("sdkstub: token store: %w", err)
	}
	var f storedFile
	if err := json.Unmarshal(b, &f); err != nil {
		return fmt.Errorf("sdkstub: token store %s is not boxo-sim's token store (%v): delete it to start without saved tokens", s.cfg.TokenFile, err)
	}
	for _, st := range f.Sessions {
		if st.PlatformURL == s.cfg.PlatformURL && st.ClientID == s.cfg.ClientID {
			s.tokens[tokenKey{st.User, st.AppID}] = session{LoginPayload: LoginPayload{Token: st.Token, RefreshToken: st.RefreshToken}, base: st.MiniappBase}
		} else {
			s.foreign = append(s.foreign, st)
		}
	}
	return nil
}

// saveLocked writes the store to the token file, readable by the owner only: it holds live
// tokens. Callers hold s.mu. A failure is logged: the tokens stay usable in memory.
func (s *SDK) saveLocked() {
	if s.cfg.TokenFile == "" {
		return
	}
	f := storedFile{Sessions: append([]storedSession{}, s.foreign...)}
	for k, sess := range s.tokens {
		f.Sessions = append(f.Sessions, storedSession{PlatformURL: s.cfg.PlatformURL, ClientID: s.cfg.ClientID, User: k.user, AppID: k.appID,
			Token: sess.Token, RefreshToken: sess.RefreshToken, MiniappBase: sess.base})
	}
	b, err := json.MarshalIndent(f, "", "  ")
	if err == nil {
		tmp := s.cfg.TokenFile + ".tmp"
		if err = os.WriteFile(tmp, append(b, '\n'), 0o600); err == nil {
			if err = os.Chmod(tmp, 0o600); err == nil { // an older file of that name kept its mode
				err = os.Rename(tmp, s.cfg.TokenFile)
			}
		}
	}
	if err != nil {
		s.log.Warn("could not save the SDK's token store; the tokens are kept in memory only", "file", s.cfg.TokenFile, "err", err)
	}
}

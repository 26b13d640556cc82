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
	"slices"
)

// TokenFileName is the token store's file name in a data directory.
const TokenFileName = "sdk-tokens.json"

// storedFile is the token store file.
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
	f, err := s.readFile()
	if err != nil {
		return err
	}
	for _, st := range f.Sessions {
		if s.ours(st) {
			s.tokens[tokenKey{st.User, st.AppID}] = session{LoginPayload: LoginPayload{Token: st.Token, RefreshToken: st.RefreshToken}, base: st.MiniappBase}
		}
	}
	return nil
}

func (s *SDK) readFile() (storedFile, error) {
	var f storedFile
	b, err := os.ReadFile(s.cfg.TokenFile)
	if errors.Is(err, fs.ErrNotExist) {
		return f, nil
	}
	if err != nil {
		return f, fmt.Errorf("sdkstub: token store: %w", err)
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return f, fmt.Errorf("sdkstub: token store %s is not boxo-sim's token store (%v): delete it to start without saved tokens", s.cfg.TokenFile, err)
	}
	return f, nil
}

// ours reports whether a stored session belongs to this SDK's platform and host app: one data
// directory may serve several.
func (s *SDK) ours(st storedSession) bool {
	return st.PlatformURL == s.cfg.PlatformURL && st.ClientID == s.cfg.ClientID
}

// saveLocked writes the sessions of the changed keys to the token file, as they are now in
// memory (absent: deleted), and keeps every other session as the file has it, so connect runs
// for other users in between are not undone. The file is readable by the owner only: it holds
// live tokens. Callers hold s.mu. A failure is logged: the tokens stay usable in memory.
func (s *SDK) saveLocked(changed ...tokenKey) {
	if s.cfg.TokenFile == "" || len(changed) == 0 {
		return
	}
	f, err := s.readFile()
	if err == nil {
		kept := f.Sessions[:0]
		for _, st := range f.Sessions {
			if !s.ours(st) || !slices.Contains(changed, tokenKey{st.User, st.AppID}) {
				kept = append(kept, st)
			}
		}
		f.Sessions = kept
		for _, k := range changed {
			if sess, ok := s.tokens[k]; ok {
				f.Sessions = append(f.Sessions, storedSession{PlatformURL: s.cfg.PlatformURL, ClientID: s.cfg.ClientID, User: k.user, AppID: k.appID,
					Token: sess.Token, RefreshToken: sess.RefreshToken, MiniappBase: sess.base})
			}
		}
		var b []byte
		if b, err = json.MarshalIndent(f, "", "  "); err == nil {
			tmp := s.cfg.TokenFile + ".tmp"
			if err = os.WriteFile(tmp, append(b, '\n'), 0o600); err == nil {
				if err = os.Chmod(tmp, 0o600); err == nil { // an older file of that name kept its mode
					err = os.Rename(tmp, s.cfg.TokenFile)
				}
			}
		}
	}
	if err != nil {
		s.log.Warn("could not save the SDK's token store; the tokens are kept in memory only", "file", s.cfg.TokenFile, "err", err)
	}
}

package hostapp

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/internal/demo"
)

// SeedDemo stores the demo data every party agrees on (internal/demo) and the authorization
// server's demo clients. It is idempotent: the demo users, the clients (the Boxo-facing
// client, DemoWebClientID, DemoV1AppID) and the host settings are created only when absent,
// so changes made since are kept; the one thing it updates is each seeded client's redirect
// URI list, which gets its baseURL callback added when missing (the port changes between
// runs).
func SeedDemo(ctx context.Context, s Store, baseURL string) error {
	baseURL = strings.TrimSuffix(baseURL, "/")
	if baseURL == "" {
		return errors.New("hostapp seed: empty base URL")
	}
	now := time.Now().UTC()
	for _, du := range demo.Users {
		_, err := s.GetUser(ctx, du.Username)
		if err == nil {
			continue
		}
		if !errors.Is(err, ErrNotFound) {
			return fmt.Errorf("hostapp seed: %w", err)
		}
		hash, err := hashPassword(du.Password)
		if err != nil {
			return err
		}
		u := User{
			ID: newUserID(), Username: du.Username, PasswordHash: hash, Reference: du.Reference,
			Email: du.Email, Phone: du.Phone, FirstName: du.FirstName, LastName: du.LastName,
			CustomAttributes: du.CustomAttributes, CreatedAt: now, UpdatedAt: now,
		}
		if _, _, err := s.PutUser(ctx, u); err != nil {
			return fmt.Errorf("hostapp seed: user %s: %w", du.Username, err)
		}
	}

	clients := []struct {
		c        Client
		secret   string
		redirect string
	}{
		// The Boxo-facing client (PROTOCOL §6.10): consent is the SDK's, so none here.
		{Client{ID: demo.HostappClientID, Name: "Boxo Connect", Scopes: []string{"openid", "profile", "email", "phone"}, SkipConsent: true},
			demo.HostappSecret, baseURL + demo.BoxoCallbackPath},
		// The demo web client of the /demo page (PROTOCOL §6.9).
		{Client{ID: DemoWebClientID, Name: "Demo Web Client", Scopes: []string{"openid", "profile", "email"}},
			DemoWebClientSecret, baseURL + DemoWebCallbackPath},
		// The demo legacy v1 application (PROTOCOL §6.11).
		{Client{ID: DemoV1AppID, Name: "Demo v1 Application", Scopes: []string{"openid", "profile", "email"}},
			DemoV1AppSecret, baseURL + DemoV1CallbackPath},
	}
	for _, dc := range clients {
		if err := ensureClient(ctx, s, dc.c, dc.secret, dc.redirect, now); err != nil {
			return fmt.Errorf("hostapp seed: client %s: %w", dc.c.ID, err)
		}
	}

	if _, err := s.GetSettings(ctx); errors.Is(err, ErrNotFound) {
		err = s.PutSettings(ctx, defaultSettings())
		if err != nil {
			return fmt.Errorf("hostapp seed: settings: %w", err)
		}
	} else if err != nil {
		return fmt.Errorf("hostapp seed: %w", err)
	}
	return nil
}

// ensureClient creates c with secret and redirect when absent; an existing client keeps its
// settings and only gets redirect added to its redirect URIs when missing.
func ensureClient(ctx context.Context, s Store, c Client, secret, redirect string, now time.Time) error {
	old, err := s.GetClient(ctx, c.ID)
	switch {
	case errors.Is(err, ErrNotFound):
		c.SecretHash, c.RedirectURIs, c.RedirectMatch = contract.Hash(secret), []string{redirect}, RedirectMatchExact
		c.CreatedAt, c.UpdatedAt = now, now
		_, err = s.PutClient(ctx, c)
		return err
	case err != nil:
		return err
	case slices.Contains(old.RedirectURIs, redirect):
		return nil
	}
	old.RedirectURIs = append(old.RedirectURIs, redirect)
	old.UpdatedAt = now
	_, err = s.PutClient(ctx, old)
	return err
}

// defaultSettings are the settings in force when none are stored.
func defaultSettings() Settings {
	return Settings{TokenPrefix: demo.TokenPrefix, IPAllowlist: slices.Clone(contract.DefaultAllowlist)}
}

// newUserID returns a fresh internal user id.
func newUserID() string { return "usr_" + contract.RandomHex(8) }

package serve

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	gossh "golang.org/x/crypto/ssh"
)

// Sentinel errors of the package; test with errors.Is.
var (
	// ErrNoAuth means neither an authorized_keys file nor --open was given.
	ErrNoAuth = errors.New("no way to authenticate viewers")
	// ErrAuthorizedKeys marks an unreadable or unparsable authorized_keys file.
	ErrAuthorizedKeys = errors.New("bad authorized_keys file")
	// ErrHostKey marks a host key file that cannot be read, parsed or written.
	ErrHostKey = errors.New("bad host key")
)

// keySet is a set of public keys, keyed by their wire encoding.
type keySet map[string]struct{}

// has reports whether k is in s; a nil key is in no set.
func (s keySet) has(k gossh.PublicKey) bool {
	if k == nil {
		return false
	}
	_, ok := s[string(k.Marshal())]
	return ok
}

// loadAuthorizedKeys reads an OpenSSH authorized_keys file. Blank lines and
// lines starting with '#' are skipped; any other line that does not parse
// is an error naming the file and the line.
func loadAuthorizedKeys(path string) (keySet, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("serve: %w: %w", ErrAuthorizedKeys, err)
	}
	set := keySet{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		k, _, _, rest, err := gossh.ParseAuthorizedKey(line)
		if err != nil {
			return nil, fmt.Errorf("serve: %w: %s:%d: %w", ErrAuthorizedKeys, path, n, err)
		}
		if len(bytes.TrimSpace(rest)) != 0 {
			return nil, fmt.Errorf("serve: %w: %s:%d: more than one key on the line", ErrAuthorizedKeys, path, n)
		}
		set[string(k.Marshal())] = struct{}{}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("serve: %w: %s: %w", ErrAuthorizedKeys, path, err)
	}
	if len(set) == 0 {
		return nil, fmt.Errorf("serve: %w: %s: no keys in the file", ErrAuthorizedKeys, path)
	}
	return set, nil
}

// loadOrCreateHostKey reads the server's private host key at path. When the
// file does not exist, it generates an ed25519 key and writes it there in
// OpenSSH format with mode 0600 (creating the directory with mode 0700).
// A file that exists but cannot be parsed is an error: it is never replaced.
// created reports whether the key was generated.
func loadOrCreateHostKey(path string) (signer gossh.Signer, created bool, err error) {
	if path == "" {
		return nil, false, fmt.Errorf("serve: %w: no host key path", ErrHostKey)
	}
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		signer, err := gossh.ParsePrivateKey(data)
		if err != nil {
			return nil, false, fmt.Errorf("serve: %w: %s: %w (move the file away to generate a new key)", ErrHostKey, path, err)
		}
		return signer, false, nil
	case !errors.Is(err, fs.ErrNotExist):
		return nil, false, fmt.Errorf("serve: %w: %w", ErrHostKey, err)
	}

	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, false, fmt.Errorf("serve: %w: generate: %w", ErrHostKey, err)
	}
	block, err := gossh.MarshalPrivateKey(priv, "mnist-tui host key")
	if err != nil {
		return nil, false, fmt.Errorf("serve: %w: encode: %w", ErrHostKey, err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, false, fmt.Errorf("serve: %w: %w", ErrHostKey, err)
	}
	if err := writeNewFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		return nil, false, fmt.Errorf("serve: %w: %w", ErrHostKey, err)
	}
	signer, err = gossh.NewSignerFromKey(priv)
	if err != nil {
		return nil, false, fmt.Errorf("serve: %w: %w", ErrHostKey, err)
	}
	return signer, true, nil
}

// writeNewFile writes data to a new file at path with the given mode. It
// writes a temporary file first and links it into place, so a crash never
// leaves a half-written key, and it fails if path appeared meanwhile.
func writeNewFile(path string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".host-key-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Link(tmp.Name(), path)
}

// fingerprint returns the SHA256 fingerprint of k as OpenSSH prints it, or
// "none" for a nil key.
func fingerprint(k gossh.PublicKey) string {
	if k == nil {
		return "none"
	}
	return gossh.FingerprintSHA256(k)
}

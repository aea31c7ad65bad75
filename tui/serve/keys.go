package serve

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"

	"github.com/charmbracelet/ssh"
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
	// ErrOptions marks options that are out of range or do not go
	// together (--wait-for-teacher without --admin-keys).
	ErrOptions = errors.New("bad options")
)

// keySet is a set of public keys, keyed by their wire encoding, each with
// its comment in the file it came from ("" if none).
type keySet map[string]string

// has reports whether k is in s; a nil key is in no set.
func (s keySet) has(k gossh.PublicKey) bool {
	if k == nil {
		return false
	}
	_, ok := s[string(k.Marshal())]
	return ok
}

// comment returns k's comment in s, "" if it has none or is not in s.
func (s keySet) comment(k gossh.PublicKey) string {
	if k == nil {
		return ""
	}
	return s[string(k.Marshal())]
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
		k, comment, _, rest, err := gossh.ParseAuthorizedKey(line)
		if err != nil {
			return nil, fmt.Errorf("serve: %w: %s:%d: %w", ErrAuthorizedKeys, path, n, err)
		}
		if len(bytes.TrimSpace(rest)) != 0 {
			return nil, fmt.Errorf("serve: %w: %s:%d: more than one key on the line", ErrAuthorizedKeys, path, n)
		}
		set[string(k.Marshal())] = comment
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
	data, err := readHostKey(path)
	switch {
	case err == nil:
		signer, err := gossh.ParsePrivateKey(data)
		if err != nil {
			return nil, false, fmt.Errorf("serve: %w: %s: %w (move the file away to generate a new key)", ErrHostKey, path, err)
		}
		if err := checkHostKeyStrength(signer.PublicKey()); err != nil {
			return nil, false, fmt.Errorf("serve: %w: %s: %w", ErrHostKey, path, err)
		}
		return signer, false, nil
	case !errors.Is(err, fs.ErrNotExist):
		return nil, false, err
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

// minRSABits is the smallest RSA host key accepted, as OpenSSH requires.
const minRSABits = 2048

// readHostKey reads the private host key at path. Like OpenSSH it refuses
// a key that group or others may read or write ("UNPROTECTED PRIVATE KEY
// FILE"), and anything but a regular file. (Windows has no such modes:
// the check is skipped there.)
func readHostKey(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		return nil, fmt.Errorf("serve: %w: %w", ErrHostKey, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("serve: %w: %s: not a regular file", ErrHostKey, path)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("serve: %w: %s: permissions %04o are too open: a private host key must not be accessible by group or others (chmod 600 %s)", ErrHostKey, path, fi.Mode().Perm(), path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("serve: %w: %w", ErrHostKey, err)
	}
	return data, nil
}

// checkHostKeyStrength refuses RSA host keys under minRSABits.
func checkHostKeyStrength(k gossh.PublicKey) error {
	ck, ok := k.(gossh.CryptoPublicKey)
	if !ok {
		return nil
	}
	if rk, ok := ck.CryptoPublicKey().(*rsa.PublicKey); ok && rk.N.BitLen() < minRSABits {
		return fmt.Errorf("a %d-bit RSA key is too weak: use at least %d bits (or move the file away to generate an ed25519 key)", rk.N.BitLen(), minRSABits)
	}
	return nil
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

// keyComment returns k's comment in the admin keys file, else in the
// authorized keys file ("" if none).
func (s *Server) keyComment(k gossh.PublicKey) string {
	if c := s.admins.comment(k); c != "" {
		return c
	}
	return s.users.comment(k)
}

// msgNeedKey is the one line a client refused at authentication gets (as
// the instruction of a keyboard-interactive prompt, which OpenSSH prints).
const msgNeedKey = "mnist-tui: this classroom lets in only the public keys the teacher listed: send your teacher your public key (the line in ~/.ssh/id_ed25519.pub; make one with ssh-keygen -t ed25519) and connect again"

// allowKey is the public key callback: listed keys (or any, with --open)
// get in; an unknown key is logged with its fingerprint, so the teacher
// knows which line to add.
func (s *Server) allowKey(ctx ssh.Context, k ssh.PublicKey) bool {
	if s.open || s.users.has(k) || s.admins.has(k) {
		return true
	}
	s.logf("refused key %s %s user=%s addr=%s: not in --authorized-keys or --admin-keys", k.Type(), fingerprint(k), quote(ctx.User()), ctx.RemoteAddr())
	return false
}

// toldKey marks, in a connection's context, that its client was told how
// to get in.
type toldKey struct{}

// keyboardInteractive lets anyone in with --open. Otherwise it refuses,
// telling the client once per connection how to get in (OpenSSH tries
// keyboard-interactive only after its public keys were refused).
func (s *Server) keyboardInteractive(ctx ssh.Context, challenge gossh.KeyboardInteractiveChallenge) bool {
	if s.open {
		return true
	}
	if ctx.Value(toldKey{}) == nil {
		ctx.SetValue(toldKey{}, true)
		s.logf("refused user=%s addr=%s: no authorized key", quote(ctx.User()), ctx.RemoteAddr())
		_, _ = challenge("", msgNeedKey, nil, nil)
	}
	return false
}

package sqlite

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// secretPrefix marks a value encrypted by this package: "gcm1:" +
// base64(nonce || AES-256-GCM ciphertext). The column name is the additional
// authenticated data, so a ciphertext copied into another column fails to open.
const secretPrefix = "gcm1:"

// Sealer encrypts and decrypts secrets at rest.
type Sealer struct{ aead cipher.AEAD }

// NewSealer derives an AES-256 key from material (SHA-256 of the raw bytes).
func NewSealer(material []byte) (*Sealer, error) {
	if len(material) == 0 {
		return nil, errors.New("sqlite: empty encryption key")
	}
	sum := sha256.Sum256(material)
	block, err := aes.NewCipher(sum[:])
	if err != nil {
		return nil, fmt.Errorf("sqlite: cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("sqlite: gcm: %w", err)
	}
	return &Sealer{aead: aead}, nil
}

// Seal encrypts plain for column. The empty string stays empty.
func (s *Sealer) Seal(column, plain string) (string, error) {
	if plain == "" {
		return "", nil
	}
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("sqlite: nonce: %w", err)
	}
	out := s.aead.Seal(nonce, nonce, []byte(plain), []byte(column))
	return secretPrefix + base64.StdEncoding.EncodeToString(out), nil
}

// Open decrypts a value written by Seal for column.
func (s *Sealer) Open(column, sealed string) (string, error) {
	if sealed == "" {
		return "", nil
	}
	if !strings.HasPrefix(sealed, secretPrefix) {
		return "", errors.New("sqlite: stored secret is not encrypted")
	}
	raw, err := base64.StdEncoding.DecodeString(sealed[len(secretPrefix):])
	if err != nil {
		return "", fmt.Errorf("sqlite: secret encoding: %w", err)
	}
	ns := s.aead.NonceSize()
	if len(raw) < ns {
		return "", errors.New("sqlite: secret too short")
	}
	plain, err := s.aead.Open(nil, raw[:ns], raw[ns:], []byte(column))
	if err != nil {
		return "", errors.New("sqlite: cannot decrypt secret (wrong encryption key?)")
	}
	return string(plain), nil
}

// LoadOrCreateKeyFile returns the key material stored in path, creating the
// file with 32 random bytes (hex) and mode 0600 when it does not exist. An
// existing file readable by group or others is refused.
func LoadOrCreateKeyFile(path string) ([]byte, bool, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		st, err := os.Stat(path)
		if err != nil {
			return nil, false, fmt.Errorf("sqlite: key file: %w", err)
		}
		if st.Mode().Perm()&0o077 != 0 {
			return nil, false, fmt.Errorf("sqlite: key file %s has mode %o; want 0600", path, st.Mode().Perm())
		}
		k := strings.TrimSpace(string(b))
		if k == "" {
			return nil, false, fmt.Errorf("sqlite: key file %s is empty", path)
		}
		return []byte(k), false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, false, fmt.Errorf("sqlite: key file: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, false, fmt.Errorf("sqlite: key dir: %w", err)
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return nil, false, fmt.Errorf("sqlite: key: %w", err)
	}
	k := hex.EncodeToString(raw)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, false, fmt.Errorf("sqlite: create key file: %w", err)
	}
	if _, err := f.WriteString(k + "\n"); err != nil {
		_ = f.Close()
		return nil, false, fmt.Errorf("sqlite: write key file: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, false, fmt.Errorf("sqlite: close key file: %w", err)
	}
	return []byte(k), true, nil
}

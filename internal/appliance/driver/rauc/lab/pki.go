package lab

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/crypto/ssh"
)

// Signer is a self-signed CA that signs bundles. The lab's own signer's
// certificate is every node's keyring; NewSigner makes others (a key outside
// the keyring).
type Signer struct {
	Name     string
	CertPath string // PEM certificate: also usable as a keyring
	KeyPath  string // PEM private key
}

// newSigner makes a self-signed CA with Go's crypto/x509 and writes it under dir.
func newSigner(dir, name string) (*Signer, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: name, Organization: []string{"RAUC lab"}},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(10 * 365 * 24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	s := &Signer{Name: name, CertPath: filepath.Join(dir, name+".cert.pem"), KeyPath: filepath.Join(dir, name+".key.pem")}
	if err := os.WriteFile(s.CertPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(s.KeyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return nil, err
	}
	return s, nil
}

// sshKey is an ed25519 key pair in OpenSSH formats.
type sshKey struct {
	private []byte // OpenSSH PEM
	public  ssh.PublicKey
}

func newSSHKey(comment string) (*sshKey, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	block, err := ssh.MarshalPrivateKey(priv, comment)
	if err != nil {
		return nil, err
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		return nil, err
	}
	return &sshKey{private: pem.EncodeToMemory(block), public: sshPub}, nil
}

func (k *sshKey) authorizedLine() string {
	return string(ssh.MarshalAuthorizedKey(k.public))
}

func writeFile(path string, data []byte, mode os.FileMode) error {
	if err := os.WriteFile(path, data, mode); err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	return nil
}

//go:build !linux

package bundle

import "os"

// identity is size and mtime where the platform's inode and ctime are not
// read; the upload's own check against the planned sha256 still catches a
// file changed behind an unchanged mtime.
func identity(fi os.FileInfo) fileIdentity {
	return fileIdentity{Size: fi.Size(), MtimeNs: fi.ModTime().UnixNano()}
}

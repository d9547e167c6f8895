package bundle

import (
	"os"
	"syscall"
)

// identity is what tells an unchanged file from a changed one: besides
// size and mtime (which `touch -d` can set back), the inode (a file
// replaced by rename is a new inode) and the ctime, which no one can set.
func identity(fi os.FileInfo) fileIdentity {
	id := fileIdentity{Size: fi.Size(), MtimeNs: fi.ModTime().UnixNano()}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		id.Dev, id.Inode = uint64(st.Dev), st.Ino //nolint:unconvert // Dev is uint64 on some arches only
		id.CtimeNs = st.Ctim.Nano()
	}
	return id
}

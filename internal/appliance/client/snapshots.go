package client

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
)

// snapshotCache remembers cluster snapshots for the planning reads of one
// provider process. A Terraform plan asks several resources and data
// sources about the same cluster; with the cache each cluster is read once
// per operation. It is shared by a Client and all its copies, and any
// request other than a cluster or image read, through any copy, forgets
// what it may have changed (the named cluster; everything for requests
// that name none), so a read after a change is always fresh.
type snapshotCache struct {
	mu      sync.Mutex
	entries map[string]*snapshotEntry
	gen     map[string]uint64 // per cluster: bumped by every invalidation
	genAll  uint64
}

type snapshotEntry struct {
	ready chan struct{}
	snap  *appliance.Cluster
	err   error
}

func newSnapshotCache() *snapshotCache {
	return &snapshotCache{entries: map[string]*snapshotEntry{}, gen: map[string]uint64{}}
}

// Cached returns a copy of c whose GetCluster answers from the process's
// snapshot cache: use it for plan-time reads. Waits that poll a cluster
// for a change (health, reboots) must use an uncached client, since
// nothing this process does tells the cache that a node came back.
func (c *Client) Cached() *Client {
	cp := *c
	cp.cacheReads = true
	return &cp
}

// Uncached returns a copy of c that always reads the cluster.
func (c *Client) Uncached() *Client {
	cp := *c
	cp.cacheReads = false
	return &cp
}

// cachedCluster reads a cluster through the cache: concurrent callers
// share one request, and a read that an invalidation overtook is not kept.
func (c *Client) cachedCluster(ctx context.Context, name string) (*appliance.Cluster, error) {
	sc := c.snapshots
	sc.mu.Lock()
	if e, ok := sc.entries[name]; ok {
		sc.mu.Unlock()
		select {
		case <-e.ready:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if e.err == nil {
			return e.snap.Clone(), nil
		}
		// The shared read failed: read again, without the cache.
		return c.fetchCluster(ctx, name)
	}
	e := &snapshotEntry{ready: make(chan struct{})}
	sc.entries[name] = e
	gen, genAll := sc.gen[name], sc.genAll
	sc.mu.Unlock()

	e.snap, e.err = c.fetchCluster(ctx, name)
	sc.mu.Lock()
	if e.err != nil || sc.gen[name] != gen || sc.genAll != genAll {
		if sc.entries[name] == e {
			delete(sc.entries, name)
		}
	}
	sc.mu.Unlock()
	close(e.ready)
	if e.err != nil {
		return nil, e.err
	}
	return e.snap.Clone(), nil
}

// invalidate forgets what a request may have changed. GETs of clusters and
// images change nothing; any other request (a POST, a DELETE, a task poll
// that may see a task finish) forgets its cluster, or every cluster when
// its path names none.
func (sc *snapshotCache) invalidate(method, path string) {
	if sc == nil || method == http.MethodGet && strings.HasPrefix(path, "/v1/clusters") {
		return
	}
	sc.mu.Lock()
	defer sc.mu.Unlock()
	rest, ok := strings.CutPrefix(path, "/v1/clusters/")
	if !ok {
		sc.genAll++
		clear(sc.entries)
		return
	}
	name, _, _ := strings.Cut(rest, "/")
	if unescaped, err := url.PathUnescape(name); err == nil {
		name = unescaped
	}
	sc.gen[name]++
	delete(sc.entries, name)
}

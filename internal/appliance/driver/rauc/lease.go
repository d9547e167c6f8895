package rauc

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/driver"
)

// The cluster's rollout lease is a file on the lease node (the primary, or
// else the first node): work_dir/lease. Taking, renewing and releasing it
// happen in one shell script each, under a lock directory made with mkdir
// (atomic on every POSIX file system), so two applies from different
// states never both hold it. Expiry is counted by the node's own clock.

// leaseScript takes or renews the lease: it writes the new one when there
// is none, the existing one has expired, or it belongs to the same owner
// and operation (a renewal: same id); a request of the same operation from
// another owner adopts it, under a new id, when the holder has missed its
// heartbeat (the same intent applied again after a crash); otherwise it
// prints the holder and exits 4.
const leaseScript = `set -eu
w=%[1]s; f="$w/lease"; l="$w/lease.lock"
mkdir -p "$w"
i=0
until mkdir "$l" 2>/dev/null; do
	i=$((i+1))
	# A lock older than a minute was left by a session that was killed.
	if [ -n "$(find "$l" -maxdepth 0 -mmin +1 2>/dev/null)" ]; then rmdir "$l" 2>/dev/null || true; fi
	if [ "$i" -gt 100 ]; then echo "the lease lock $l stays taken" >&2; exit 3; fi
	sleep 0.1
done
trap 'rmdir "$l"' EXIT
now=$(date +%%s)
id=%[2]s
adopted=""
if [ -f "$f" ]; then
	old_id=$(sed -n 's/^id=//p' "$f"); old_owner=$(sed -n 's/^owner=//p' "$f")
	old_op=$(sed -n 's/^operation=//p' "$f"); old_exp=$(sed -n 's/^expires=//p' "$f")
	old_renewed=$(sed -n 's/^renewed=//p' "$f"); old_hb=$(sed -n 's/^heartbeat=//p' "$f")
	if [ "$old_owner" = %[3]s ] && [ "$old_op" = %[4]s ]; then
		id=$old_id
	elif [ "${old_exp:-0}" -le "$now" ]; then
		:
	elif [ "$old_op" = %[4]s ] && [ "$((now - ${old_renewed:-0}))" -gt "${old_hb:-0}" ]; then
		adopted=$old_owner
	else
		cat "$f"; echo "now=$now"; exit 4
	fi
fi
printf 'id=%%s\nowner=%%s\noperation=%%s\nexpires=%%s\nrenewed=%%s\nheartbeat=%%s\n' "$id" %[3]s %[4]s "$((now + %[5]d))" "$now" %[6]d > "$f.tmp"
mv "$f.tmp" "$f"
cat "$f"; echo "now=$now"; echo "adopted=$adopted"
`

const releaseScript = `set -eu
w=%[1]s; f="$w/lease"; l="$w/lease.lock"
[ -f "$f" ] || exit 0
i=0
until mkdir "$l" 2>/dev/null; do
	i=$((i+1)); if [ "$i" -gt 100 ]; then echo "the lease lock $l stays taken" >&2; exit 3; fi
	sleep 0.1
done
trap 'rmdir "$l"' EXIT
if [ "$(sed -n 's/^id=//p' "$f")" = %[2]s ]; then rm -f "$f"; fi
`

// leaseNode is where the lease lives: the primary node, else the first.
func (d *Driver) leaseNode() NodeConfig {
	for _, n := range d.cfg.Nodes {
		if n.Role == appliance.RolePrimary || n.Role == appliance.RoleMaster {
			return n
		}
	}
	return d.cfg.Nodes[0]
}

func oneLine(s string) string { return strings.NewReplacer("\n", " ", "\r", " ").Replace(s) }

// AcquireLease takes or renews the cluster's lease.
func (d *Driver) AcquireLease(ctx context.Context, cluster string, req driver.LeaseRequest) (*driver.Lease, error) {
	if err := d.checkCluster(cluster); err != nil {
		return nil, err
	}
	if req.TTL <= 0 {
		req.TTL = 5 * time.Minute
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	n := d.leaseNode()
	ttl := max(int(req.TTL.Round(time.Second)/time.Second), 1)
	heartbeat := int(req.Heartbeat.Round(time.Second) / time.Second)
	if heartbeat <= 0 || heartbeat > ttl {
		heartbeat = max(ttl/3, 1)
	}
	script := fmt.Sprintf(leaseScript, shq(n.WorkDir), shq("lease-"+hex.EncodeToString(b[:])), shq(oneLine(req.Owner)), shq(oneLine(req.OperationKey)), ttl, heartbeat)
	start := time.Now()
	out, err := d.conns.run(ctx, n, script, d.cfg.CommandTimeout)
	fields := parseLease(out)
	var ce *commandError
	if errors.As(err, &ce) && ce.status == 4 {
		left := time.Duration(atoi(fields["expires"])-atoi(fields["now"])) * time.Second
		msg := fmt.Sprintf("RAUC cluster %s is being rolled out by %s (operation %s) for another %s: wait for it to finish, or for its lease to expire", d.cfg.Name, fields["owner"], fields["operation"], left)
		if fields["operation"] == oneLine(req.OperationKey) {
			adoptIn := time.Duration(atoi(fields["renewed"])+atoi(fields["heartbeat"])+1-atoi(fields["now"])) * time.Second
			msg = fmt.Sprintf("RAUC cluster %s is being rolled out by %s with this same operation, which renewed its lease recently: if that run crashed, applying again in %s adopts its lease", d.cfg.Name, fields["owner"], adoptIn)
		}
		return nil, &driver.Error{Code: driver.CodeLeaseHeld,
			Message: msg,
			Details: map[string]any{"holder": fields["owner"], "operation_key": fields["operation"], "expires_in": left.String()}}
	}
	if err != nil {
		return nil, fmt.Errorf("take the lease of RAUC cluster %s on node %s: %w", d.cfg.Name, n.Name, err)
	}
	left := time.Duration(atoi(fields["expires"])-atoi(fields["now"])) * time.Second
	return &driver.Lease{ID: fields["id"], Cluster: d.cfg.Name, Owner: fields["owner"], OperationKey: fields["operation"], ExpiresAt: start.Add(left),
		Adopted: fields["adopted"] != "", PreviousOwner: fields["adopted"]}, nil
}

// ReleaseLease removes the lease if it is still this one.
func (d *Driver) ReleaseLease(ctx context.Context, cluster, leaseID string) error {
	if err := d.checkCluster(cluster); err != nil {
		return err
	}
	n := d.leaseNode()
	_, err := d.conns.run(ctx, n, fmt.Sprintf(releaseScript, shq(n.WorkDir), shq(leaseID)), d.cfg.CommandTimeout)
	if err != nil {
		return fmt.Errorf("release the lease of RAUC cluster %s on node %s: %w", d.cfg.Name, n.Name, err)
	}
	return nil
}

func parseLease(out string) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			m[k] = v
		}
	}
	return m
}

func atoi(s string) int {
	v, _ := strconv.Atoi(strings.TrimSpace(s))
	return v
}

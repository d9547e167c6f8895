package provider

import (
	"context"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
	"github.com/hashicorp/terraform-plugin-framework-validators/objectvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/driver/rauc"
)

// raucModel is the provider's rauc block: one cluster of RAUC nodes reached
// over SSH.
type raucModel struct {
	Cluster        types.String         `tfsdk:"cluster"`
	User           types.String         `tfsdk:"user"`
	PrivateKey     types.String         `tfsdk:"private_key"`
	KnownHosts     types.String         `tfsdk:"known_hosts"`
	KnownHostsFile types.String         `tfsdk:"known_hosts_file"`
	Keyring        types.String         `tfsdk:"keyring"`
	KeyringFile    types.String         `tfsdk:"keyring_file"`
	Compatible     types.String         `tfsdk:"compatible"`
	RebootCommand  types.String         `tfsdk:"reboot_command"`
	HealthCommand  types.String         `tfsdk:"health_command"`
	VersionCommand types.String         `tfsdk:"version_command"`
	WorkDir        types.String         `tfsdk:"work_dir"`
	ConnectTimeout timetypes.GoDuration `tfsdk:"connect_timeout"`
	CommandTimeout timetypes.GoDuration `tfsdk:"command_timeout"`
	InstallTimeout timetypes.GoDuration `tfsdk:"install_timeout"`
	BootTimeout    timetypes.GoDuration `tfsdk:"boot_timeout"`
	HealthTimeout  timetypes.GoDuration `tfsdk:"health_timeout"`
	Nodes          []raucNodeModel      `tfsdk:"node"`
}

type raucNodeModel struct {
	Name      types.String `tfsdk:"name"`
	Address   types.String `tfsdk:"address"`
	Role      types.String `tfsdk:"role"`
	HAPartner types.String `tfsdk:"ha_partner"`
	HostKey   types.String `tfsdk:"host_key"`
	WorkDir   types.String `tfsdk:"work_dir"`
}

func raucBlock() schema.Block {
	str := func(desc string) schema.StringAttribute {
		return schema.StringAttribute{Optional: true, MarkdownDescription: desc}
	}
	timeout := func(desc, def string) schema.StringAttribute {
		return schema.StringAttribute{Optional: true, CustomType: timetypes.GoDurationType{},
			Validators:          []validator.String{minDuration{min: time.Second}},
			MarkdownDescription: desc + " A Go duration of at least `1s`. Default `" + def + "`."}
	}
	roles := make([]string, len(appliance.ValidRoles))
	for i, r := range appliance.ValidRoles {
		roles[i] = string(r)
	}
	return schema.SingleNestedBlock{
		MarkdownDescription: "Drive a cluster of [RAUC](https://rauc.io) appliances over SSH instead of an Appliance Management API: " +
			"the provider logs in to each node and runs RAUC's own command line there (`rauc status`, `rauc install`, " +
			"`rauc status mark-active|mark-good|mark-bad`), copying bundles with SFTP. Conflicts with `endpoint` and `simulator`. " +
			"See the guide \"Upgrading RAUC appliances\".",
		Attributes: map[string]schema.Attribute{
			"cluster": schema.StringAttribute{Optional: true, MarkdownDescription: "Name of the cluster, as resources and data sources refer to it (`cluster = ...`). Required when the block is present."},
			"user":    str("SSH user on every node. Default `root` (RAUC's commands need it)."),
			"private_key": schema.StringAttribute{Optional: true, Sensitive: true,
				MarkdownDescription: "PEM or OpenSSH private key the provider logs in with, e.g. `file(\"~/.ssh/appliances\")`. Never logged, never in state. Required when the block is present."},
			"known_hosts":      str("known_hosts lines with the nodes' host keys. A node whose key is not here (nor in `known_hosts_file`, nor pinned by its `host_key`) is refused, and so is a changed key."),
			"known_hosts_file": str("Path of a known_hosts file with the nodes' host keys."),
			"keyring":          str("PEM certificate(s) bundles must be signed with: the nodes' RAUC keyring. The plan verifies every bundle against it with `rauc info` before anything is copied."),
			"keyring_file":     str("Path of the keyring PEM file, instead of `keyring`."),
			"compatible":       str("The nodes' RAUC compatible string; bundles for another one fail the plan. Default: read from the nodes."),
			"reboot_command":   str("Command that reboots a node. Default `systemctl reboot`."),
			"health_command":   str("Command whose success means a node serves (run after each reboot until it passes or `health_timeout` ends, and at every read). Default: none, a node is healthy when its booted slot is marked good."),
			"version_command":  str("Command that prints the running version when the booted slot was not installed by RAUC (a factory image). Default `. /etc/os-release && echo \"$VERSION_ID\"`."),
			"work_dir":         str("Directory on each node for bundles, the rollout lease and the provider's notes. Default `/var/lib/appliance-provider`."),
			"connect_timeout":  timeout("Longest wait for one SSH connection to a node: the TCP connection, the handshake and the host key check, and opening a session or SFTP on it. A node that does not answer in time is taken to be unreachable.", "15s"),
			"command_timeout":  timeout("Longest run of one command on a node (`rauc status`, `mark-active`, `mark-good`, the reboot, version and health commands, the lease script). A command still running then is killed, and the error names the node and the command.", "2m"),
			"install_timeout":  timeout("Longest check of a bundle by `rauc info` where Terraform runs, longest copy of it to one node with SFTP, and longest `rauc install` of it there, each on its own (all three read the whole bundle).", "30m"),
			"boot_timeout":     schema.StringAttribute{Optional: true, MarkdownDescription: "Longest wait from a reboot until the node answers SSH on its new slot, as a Go duration. Default `10m`. It bounds the whole reboot: the reboot command, the node going down and every attempt to reach it again. While the node that holds the rollout lease reboots, the lease is held on another node (see the guide).", CustomType: timetypes.GoDurationType{}, Validators: []validator.String{nonNegativeDuration{}}},
			"health_timeout":   schema.StringAttribute{Optional: true, MarkdownDescription: "Longest wait after boot for `health_command` to pass before the node is reverted. Default `5m`.", CustomType: timetypes.GoDurationType{}, Validators: []validator.String{nonNegativeDuration{}}},
		},
		Blocks: map[string]schema.Block{
			"node": schema.ListNestedBlock{
				MarkdownDescription: "One node of the cluster.",
				NestedObject: schema.NestedBlockObject{Attributes: map[string]schema.Attribute{
					"name":    schema.StringAttribute{Required: true, MarkdownDescription: "Node name, as plans and `node_versions` show it."},
					"address": schema.StringAttribute{Required: true, MarkdownDescription: "Host or host:port of the node's SSH server (port 22 by default)."},
					"role": schema.StringAttribute{Optional: true, MarkdownDescription: "Role in the rollout order: `primary` activates first (and holds the rollout lease). Default `member`.",
						Validators: []validator.String{stringvalidator.OneOf(roles...)}},
					"ha_partner": str("Name of the node's HA partner: the two are never rebooted together."),
					"host_key":   str("Pinned host key of the node (`ssh-ed25519 AAAA...`), instead of or besides known_hosts."),
					"work_dir":   str("Overrides `work_dir` for this node."),
				}},
			},
		},
		Validators: []validator.Object{
			objectvalidator.ConflictsWith(path.MatchRoot("endpoint"), path.MatchRoot("simulator")),
		},
	}
}

// raucConfigOf maps the rauc block onto the driver's configuration; what
// is not set is zero, which the driver takes for its default.
func raucConfigOf(m *raucModel) rauc.Config {
	cfg := rauc.Config{
		Name:           m.Cluster.ValueString(),
		User:           m.User.ValueString(),
		PrivateKey:     []byte(m.PrivateKey.ValueString()),
		KnownHosts:     m.KnownHosts.ValueString(),
		KnownHostsFile: m.KnownHostsFile.ValueString(),
		Keyring:        m.Keyring.ValueString(),
		KeyringFile:    m.KeyringFile.ValueString(),
		Compatible:     m.Compatible.ValueString(),
		RebootCommand:  m.RebootCommand.ValueString(),
		HealthCommand:  m.HealthCommand.ValueString(),
		VersionCommand: m.VersionCommand.ValueString(),
		WorkDir:        m.WorkDir.ValueString(),
	}
	// The durations were validated by the schema; null is 0, the default.
	cfg.ConnectTimeout, _ = m.ConnectTimeout.ValueGoDuration()
	cfg.CommandTimeout, _ = m.CommandTimeout.ValueGoDuration()
	cfg.InstallTimeout, _ = m.InstallTimeout.ValueGoDuration()
	cfg.BootTimeout, _ = m.BootTimeout.ValueGoDuration()
	cfg.HealthTimeout, _ = m.HealthTimeout.ValueGoDuration()
	for _, n := range m.Nodes {
		cfg.Nodes = append(cfg.Nodes, rauc.NodeConfig{
			Name: n.Name.ValueString(), Address: n.Address.ValueString(), Role: appliance.Role(n.Role.ValueString()),
			HAPartner: n.HAPartner.ValueString(), HostKey: n.HostKey.ValueString(), WorkDir: n.WorkDir.ValueString(),
		})
	}
	return cfg
}

// configureRAUC builds the RAUC driver from the rauc block.
func (p *applianceProvider) configureRAUC(ctx context.Context, m *raucModel, resp *provider.ConfigureResponse) {
	if m.PrivateKey.IsUnknown() || m.Cluster.IsUnknown() || m.KnownHosts.IsUnknown() || m.Keyring.IsUnknown() {
		resp.Diagnostics.AddError("RAUC configuration depends on values known only after apply",
			"rauc.cluster, private_key, known_hosts and keyring must be known at plan time: the provider reads the nodes to plan the rollout.")
		return
	}
	if m.Cluster.ValueString() == "" {
		resp.Diagnostics.AddAttributeError(path.Root("rauc").AtName("cluster"), "RAUC cluster has no name", "Set rauc.cluster: resources refer to the cluster by it.")
		return
	}
	cfg := raucConfigOf(m)
	d, err := rauc.New(cfg)
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("rauc"), "Invalid RAUC configuration", err.Error())
		return
	}
	tflog.Debug(ctx, "appliance provider configured for RAUC over SSH", map[string]any{"cluster": cfg.Name, "nodes": len(cfg.Nodes)})
	data := newProviderData(d, p.version)
	resp.ResourceData = data
	resp.DataSourceData = data
}

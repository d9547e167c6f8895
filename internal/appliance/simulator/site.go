package simulator

import (
	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/simulator/engine"
)

// siteDefaults tells the download site what the clusters run: a bundle
// asked for without from= or components= fits them.
func (s *Server) siteDefaults() (series, components []string, err error) {
	seriesSet, names := map[string]bool{}, map[string]bool{}
	err = s.eng.Tx(func(t *engine.Tx) error {
		for _, cs := range t.St.Clusters {
			for _, n := range cs.Cluster.Nodes {
				if s := engine.SeriesOf(n.Active.Version); s != "" {
					seriesSet[s] = true
				}
				for c := range n.Active.Components {
					names[c] = true
				}
			}
		}
		return nil
	})
	return appliance.SortedKeys(seriesSet), appliance.SortedKeys(names), err
}

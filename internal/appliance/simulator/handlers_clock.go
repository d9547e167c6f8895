package simulator

import (
	"net/http"
	"time"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance/api"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/simulator/engine"
)

// ClockView is the answer of GET /v1/clock.
type ClockView struct {
	Now       time.Time `json:"now"`
	TimeScale float64   `json:"time_scale"`
	Manual    bool      `json:"manual"`
}

// AdvanceRequest is the body of POST /v1/clock/advance.
type AdvanceRequest struct {
	Seconds float64 `json:"seconds"`
}

func (s *Server) clockView(t *engine.Tx) ClockView {
	v := ClockView{Now: t.Now, TimeScale: t.St.Clock.Scale}
	if s.opts.Clock != nil {
		v.Manual, v.TimeScale = true, 0
	}
	return v
}

func (s *Server) getClock(t *engine.Tx, r *http.Request, _ []byte) (int, any, error) {
	return http.StatusOK, s.clockView(t), nil
}

// advanceClock moves a manual clock and applies everything that fell due.
func (s *Server) advanceClock(t *engine.Tx, r *http.Request, body []byte) (int, any, error) {
	var req AdvanceRequest
	if err := decodeRequired(body, &req); err != nil {
		return 0, nil, err
	}
	adv, ok := s.opts.Clock.(interface{ Advance(time.Duration) })
	if !ok {
		return 0, nil, engine.Unprocessable(api.CodeInvalidRequest, "the clock is the scaled wall clock: only a manual clock can be advanced")
	}
	if req.Seconds < 0 {
		return 0, nil, engine.BadRequest("seconds must not be negative")
	}
	adv.Advance(time.Duration(req.Seconds * float64(time.Second)))
	t.Refresh()
	return http.StatusOK, s.clockView(t), nil
}

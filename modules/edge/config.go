package edge

import (
	"fmt"
	"os"
	"time"

	"github.com/ack-dev/ack/internal/config"
)

// Config is the edge's ModuleConfig (module.json, or ack.json's
// moduleConfig.edge). The routing itself is in contracts/edge/routes.json.
type Config struct {
	// HealthCheckInterval is the period of the active checks. Default 2s.
	HealthCheckInterval config.Duration
	// HealthCheckPath is what each upstream is asked with GET. Default
	// /readyz; a HandStack upstream, which has none, can use /checkip.
	HealthCheckPath string
	// HealthCheckTimeout bounds one check. Default 1s.
	HealthCheckTimeout config.Duration
	// UnhealthyThreshold is how many checks in a row must fail before an
	// upstream is taken out. Default 2.
	UnhealthyThreshold int
	// HealthyThreshold is how many checks in a row must pass before a down
	// upstream gets traffic again. Default 2.
	HealthyThreshold int
	// RequestTimeout bounds one proxied request, retries and the streamed
	// answer included, unless its route sets its own. Default 180s
	// (syn.js's default transaction timeout).
	RequestTimeout config.Duration
	// DialTimeout bounds opening a connection to an upstream. Default 2s.
	DialTimeout config.Duration
	// MaxIdleConnsPerHost is the keep-alive pool size per upstream. Default 128.
	MaxIdleConnsPerHost int
	// TrustForwardedHeaders keeps the X-Forwarded-For chain, -Proto and
	// -Host a client sent; set it only when the edge is itself behind a
	// proxy that sets them. Default false: the edge's own view replaces them.
	TrustForwardedHeaders bool
	// AdminToken guards POST /edge/switch and remote GET /edge/status.
	// Default: the ACK_ADMIN_TOKEN environment variable.
	AdminToken string
}

func (c *Config) setDefaults() {
	def := func(d *config.Duration, v time.Duration) {
		if *d <= 0 {
			*d = config.Duration(v)
		}
	}
	def(&c.HealthCheckInterval, 2*time.Second)
	def(&c.HealthCheckTimeout, time.Second)
	def(&c.RequestTimeout, 180*time.Second)
	def(&c.DialTimeout, 2*time.Second)
	if c.HealthCheckPath == "" {
		c.HealthCheckPath = "/readyz"
	}
	if c.UnhealthyThreshold <= 0 {
		c.UnhealthyThreshold = 2
	}
	if c.HealthyThreshold <= 0 {
		c.HealthyThreshold = 2
	}
	if c.MaxIdleConnsPerHost <= 0 {
		c.MaxIdleConnsPerHost = 128
	}
	if c.AdminToken == "" {
		c.AdminToken = os.Getenv("ACK_ADMIN_TOKEN")
	}
}

func (c *Config) validate() error {
	if c.HealthCheckPath[0] != '/' {
		return fmt.Errorf("edge: HealthCheckPath %q must start with /", c.HealthCheckPath)
	}
	return nil
}

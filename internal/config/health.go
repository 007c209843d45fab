package config

// healthDirectives are the rows for active health checks (health_check,
// match) and status and metrics endpoints.
func healthDirectives() []*directive { return nil }

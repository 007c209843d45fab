package config

// API is the "api" directive of a location: the NGINX Plus-compatible
// upstream API.
type API struct{}

// apiDirectives are the API and access rows of the directive table.
func apiDirectives() []*directive { return nil }

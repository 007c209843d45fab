package config

// Stream is the stream block (TCP and UDP load balancing).
type Stream struct{}

// streamDirectives are the stream module's rows of the directive table.
func streamDirectives() []*directive { return nil }

package process

import (
	"context"

	"bunsan/internal/config"
)

// applyStream starts, keeps or stops the stream (L4) listeners for m.
// It is called with s.mu held, before the HTTP snapshot is swapped; an
// error leaves everything as it was.
func (s *Server) applyStream(m *config.Model) error { return nil }

// shutdownStream stops the stream listeners and waits for sessions, up to ctx.
func (s *Server) shutdownStream(ctx context.Context) error { return nil }

// closeStream stops the stream listeners at once.
func (s *Server) closeStream() {}

// Package health runs active health checks (NGINX Plus's health_check)
// against the servers of upstream groups and reports each verdict to the
// upstream package (Peer.SetHealthy), which takes an unhealthy server out
// of rotation and ramps a recovered one up over slow_start. It decides no
// balancing.
//
// # Scheduling
//
// Each health_check of a group is one round loop: every interval it walks
// the group's current servers (so servers added or removed through the API
// are followed from the next round), starting each server's check at its
// own offset in the interval (server i of n at i·interval/n, plus a random
// jitter up to jitter=), so a large group is not probed all at once. A
// server whose previous check is still running is skipped for that round:
// checks of one server never overlap. Each check has its own timeouts
// (the location's proxy_connect_timeout and proxy_read_timeout in http,
// health_check_timeout in stream), apart from the data path's.
//
// Time is read through a Clock, so tests move through intervals with a
// fake clock instead of sleeping.
//
// # Verdicts
//
// A server that fails fails= checks in a row becomes unhealthy; one that
// passes passes= checks in a row becomes healthy again. With mandatory, a
// server starts in "checking" (no traffic) and its first check decides.
// A server is healthy when every health_check of its group says so.
//
// State is keyed by (http or stream, group, check, server) and carried
// across reloads by Checker.Start: a server keeps its verdict and
// counters. As in NGINX Plus, mandatory without persistent puts every
// server back into "checking" at a reload; with persistent a server that
// was healthy stays so. A server whose group loses all its checks is
// made healthy again.
package health

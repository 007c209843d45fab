// Package admin serves the NGINX Plus-compatible upstream API (version 9
// paths, the same JSON fields and error shapes, so tools written for
// NGINX Plus work unchanged) and checks HTTP basic authentication against
// htpasswd files for it.
//
// It reaches the data path only through upstream.Group's accessors: the
// live figures of Group.Servers and the run-time changes of AddServer,
// UpdateServer and RemoveServer. It holds no state of its own; every
// request reads the groups of the configuration being served.
package admin

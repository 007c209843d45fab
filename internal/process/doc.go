// Package process runs bunsan as a server process: it opens and keeps the
// listening sockets, builds a data-path snapshot from each loaded model
// and swaps it in, writes the pid file, answers nginx's signals (HUP
// reload, QUIT graceful stop, TERM/INT fast stop, USR1 reopen logs) and
// sends them for "bunsan -s". It knows no directives: it reads the model.
package process

// Package conf reads the nginx configuration language: it lexes and parses
// text into a tree of directives, expands "include" in place, keeps a
// file:line:col position on every node, and prints a tree back as canonical
// text.
//
// It owns syntax only. It must not know what any directive means: whether
// "proxy_pass" takes one argument, or where "server" may appear, is decided by
// the directive table in internal/config. The one exception is "include",
// which nginx itself treats as part of the file syntax (ngx_conf_include in
// src/core/ngx_conf_file.c), so it is expanded here, in whatever block it
// stands.
//
// Tokenizing copies ngx_conf_read_token exactly, so any file nginx accepts
// parses to the same words here. Where nginx stops at the first error, this
// package recovers and keeps going, so one run reports every syntax problem
// it can, each with a position and a hint on how to fix it.
//
// It reads files (the main file and its includes) and nothing else; it opens
// no sockets and keeps no global state.
package conf

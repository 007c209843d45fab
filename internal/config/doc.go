// Package config turns a parsed configuration tree into the validated,
// immutable runtime model that the data paths are built from.
//
// It owns the directive table (which directives exist, where they may
// appear, how many arguments they take and what they become), defaults,
// inheritance between levels, and the error messages that tell a user what
// to fix. It does not parse text (package conf does) and opens no sockets;
// the only files it reads are certificates and keys, to check them at load.
package config

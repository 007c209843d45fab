// Package tlsconf owns TLS material: it loads certificates and keys and
// builds the TLS configuration for each listening address, choosing a
// certificate by SNI. It knows nothing of HTTP beyond the ALPN names.
package tlsconf

package health

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"bunsan/internal/config"
)

// gRPC health checking protocol (grpc.health.v1), written by hand: one
// unary call over cleartext HTTP/2 whose messages are a string and an
// enum, too small to need a protobuf library.
const (
	grpcCheckPath = "/grpc.health.v1.Health/Check"
	grpcServing   = 1 // HealthCheckResponse.ServingStatus SERVING
)

// grpcRequest frames a HealthCheckRequest{service}.
func grpcRequest(service string) []byte {
	var msg []byte
	if service != "" {
		msg = append(msg, 0x0a) // field 1, length-delimited
		msg = binary.AppendUvarint(msg, uint64(len(service)))
		msg = append(msg, service...)
	}
	out := make([]byte, 5, 5+len(msg))
	binary.BigEndian.PutUint32(out[1:], uint32(len(msg)))
	return append(out, msg...)
}

// grpcServingStatus reads the status of a framed HealthCheckResponse.
func grpcServingStatus(b []byte) (uint64, error) {
	if len(b) < 5 {
		return 0, fmt.Errorf("short gRPC message")
	}
	n := binary.BigEndian.Uint32(b[1:5])
	msg := b[5:]
	if uint32(len(msg)) < n {
		return 0, fmt.Errorf("truncated gRPC message")
	}
	msg = msg[:n]
	for len(msg) > 0 {
		tag, k := binary.Uvarint(msg)
		if k <= 0 {
			return 0, fmt.Errorf("bad protobuf")
		}
		msg = msg[k:]
		v, k := binary.Uvarint(msg)
		if k <= 0 || tag&7 != 0 {
			return 0, fmt.Errorf("bad protobuf")
		}
		msg = msg[k:]
		if tag>>3 == 1 {
			return v, nil
		}
	}
	return 0, nil // field absent: UNKNOWN
}

// probeGRPC calls Check; it passes when the call ends with grpc-status 0
// and SERVING, or with the grpc_status= code the check accepts (e.g. 12,
// UNIMPLEMENTED, for servers without the health service).
func probeGRPC(ctx context.Context, c *config.HealthCheck, addr string) error {
	ctx, cancel := deadline(ctx, c)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+grpcCheckPath, bytes.NewReader(grpcRequest(c.GRPCService)))
	if err != nil {
		return err
	}
	if c.Host != "" {
		req.Host = c.Host
	}
	req.Header.Set("Content-Type", "application/grpc")
	req.Header.Set("TE", "trailers")
	tr := transport(c)
	tr.Protocols = new(http.Protocols)
	tr.Protocols.SetUnencryptedHTTP2(true)
	defer tr.CloseIdleConnections()
	resp, err := tr.RoundTrip(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP status %d", resp.StatusCode)
	}
	gs := resp.Trailer.Get("Grpc-Status")
	if gs == "" {
		gs = resp.Header.Get("Grpc-Status") // trailers-only response
	}
	code, err := strconv.Atoi(gs)
	if err != nil {
		return fmt.Errorf("no grpc-status")
	}
	if c.GRPCStatus >= 0 && code == c.GRPCStatus {
		return nil
	}
	if code != 0 {
		return fmt.Errorf("grpc-status %d", code)
	}
	st, err := grpcServingStatus(body)
	if err != nil {
		return err
	}
	if st != grpcServing {
		return fmt.Errorf("serving status %d", st)
	}
	return nil
}

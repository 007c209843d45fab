package process

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

func TestNotify(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	t.Setenv("NOTIFY_SOCKET", path)
	tests := []struct {
		send func()
		want string
	}{
		{func() { notifyReady(false) }, "READY=1"},
		{func() { notifyReady(true) }, "MAINPID=" + strconv.Itoa(os.Getpid()) + "\nREADY=1"},
		{func() { notify("STOPPING=1") }, "STOPPING=1"},
	}
	buf := make([]byte, 256)
	for _, tt := range tests {
		tt.send()
		n, _, err := conn.ReadFromUnix(buf)
		if err != nil {
			t.Fatal(err)
		}
		if got := string(buf[:n]); got != tt.want {
			t.Errorf("sent %q, want %q", got, tt.want)
		}
	}
}

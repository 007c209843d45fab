package upstream

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

func addrs(g *Group) []string {
	var out []string
	for _, p := range g.Peers() {
		out = append(out, p.Addr())
	}
	return out
}

func ids(g *Group) []int {
	var out []int
	for _, c := range g.ServerConfs() {
		out = append(out, c.ID)
	}
	return out
}

func TestDynamicAddRemovePatch(t *testing.T) {
	g, _ := build(t, Spec{Name: "u", Servers: []ServerSpec{srv(t, "a:80"), srv(t, "b:80")}})
	if got := ids(g); !slices.Equal(got, []int{0, 1}) {
		t.Fatalf("ids %v", got)
	}
	c, err := g.AddServer(srv(t, "c:80", "weight=3"))
	if err != nil || c.ID != 2 {
		t.Fatalf("add: %v %+v", err, c)
	}
	if _, err := g.AddServer(srv(t, "c:80")); !errors.Is(err, ErrServerExists) {
		t.Fatalf("duplicate add: %v", err)
	}
	if err := g.RemoveServer(0); err != nil {
		t.Fatal(err)
	}
	if err := g.RemoveServer(0); !errors.Is(err, ErrServerNotFound) {
		t.Fatalf("second remove: %v", err)
	}
	if got := addrs(g); !slices.Equal(got, []string{"b:80", "c:80"}) {
		t.Fatalf("servers %v", got)
	}
	// An id is never reused: a server added again gets a new one.
	if c, _ := g.AddServer(srv(t, "a:80")); c.ID != 3 {
		t.Fatalf("re-added id %d", c.ID)
	}
	up, err := g.UpdateServer(1, func(s *ServerSpec) error { s.Weight = 5; s.Drain = true; return nil })
	if err != nil || up.Weight != 5 || !up.Drain {
		t.Fatalf("patch: %v %+v", err, up)
	}
	if p := g.PeerByID(1); p.Weight() != 5 || !p.Draining() {
		t.Fatalf("patched peer weight %d draining %v", p.Weight(), p.Draining())
	}
	if _, err := g.UpdateServer(1, func(s *ServerSpec) error { s.Backup = true; return nil }); !errors.Is(err, ErrImmutable) {
		t.Fatalf("backup change: %v", err)
	}
	// The drained server takes nothing; picks go to c and a.
	for range 10 {
		p := pick(t, g, PickRequest{})
		if p.Addr() == "b:80" {
			t.Fatal("picked a draining server")
		}
		g.Done(p, Outcome{})
	}
}

func TestDynamicEmptyGroup(t *testing.T) {
	g, _ := build(t, Spec{Name: "u", Servers: []ServerSpec{srv(t, "a:80"), srv(t, "b:80", "backup")}})
	if err := g.RemoveServer(0); err != nil {
		t.Fatal(err)
	}
	if p := pick(t, g, PickRequest{}); p.Addr() != "b:80" {
		t.Fatalf("backup not used: %s", p.Addr())
	}
	if err := g.RemoveServer(1); err != nil {
		t.Fatal(err)
	}
	if _, err := g.Pick(&PickRequest{}); !errors.Is(err, ErrNoLiveUpstreams) {
		t.Fatalf("empty group: %v", err)
	}
	if _, err := g.AddServer(srv(t, "c:80")); err != nil {
		t.Fatal(err)
	}
	if p := pick(t, g, PickRequest{}); p.Addr() != "c:80" {
		t.Fatalf("got %s", p.Addr())
	}
}

func TestDynamicBackupNeedsMethod(t *testing.T) {
	g, _ := build(t, Spec{Name: "u", Method: Hash, Servers: []ServerSpec{srv(t, "a:80"), srv(t, "b:80")}})
	if _, err := g.AddServer(srv(t, "c:80", "backup")); !errors.Is(err, ErrBackupMethod) {
		t.Fatalf("err %v", err)
	}
}

// TestDynamicRetryKeepsSet: a request that started before a change keeps
// its server set for its retries, so its tried servers stay tried.
func TestDynamicRetryKeepsSet(t *testing.T) {
	g, _ := build(t, Spec{Name: "u", Servers: []ServerSpec{srv(t, "a:80"), srv(t, "b:80")}})
	var tr Tried
	r := PickRequest{Tried: &tr}
	first := pick(t, g, r)
	g.Done(first, Outcome{Result: Next})
	if _, err := g.AddServer(srv(t, "c:80")); err != nil {
		t.Fatal(err)
	}
	second := pick(t, g, r)
	g.Done(second, Outcome{Result: Next})
	if second.Addr() == first.Addr() || second.Addr() == "c:80" {
		t.Fatalf("retry got %s after %s", second.Addr(), first.Addr())
	}
	if _, err := g.Pick(&r); !errors.Is(err, ErrNoLiveUpstreams) {
		t.Fatalf("third try: %v", err)
	}
}

// TestReloadKeepsAPIChanges is the reload rule: API changes stay where
// the configuration did not change that server.
func TestReloadKeepsAPIChanges(t *testing.T) {
	tests := []struct {
		name string
		api  func(t *testing.T, g *Group)
		next []string // server lines of the new configuration: addr[,weight]
		want []string // addr:weight served after the reload
	}{
		{"same config keeps a patch", func(t *testing.T, g *Group) {
			mustUpdate(t, g, 0, func(s *ServerSpec) { s.Weight = 7 })
		}, []string{"a:80", "b:80"}, []string{"a:80=7", "b:80=1"}},
		{"changed server takes the config", func(t *testing.T, g *Group) {
			mustUpdate(t, g, 0, func(s *ServerSpec) { s.Weight = 7 })
		}, []string{"a:80=2", "b:80"}, []string{"a:80=2", "b:80=1"}},
		{"removed stays removed", func(t *testing.T, g *Group) {
			if err := g.RemoveServer(1); err != nil {
				t.Fatal(err)
			}
		}, []string{"a:80", "b:80"}, []string{"a:80=1"}},
		{"added stays", func(t *testing.T, g *Group) {
			if _, err := g.AddServer(srv(t, "c:80")); err != nil {
				t.Fatal(err)
			}
		}, []string{"a:80", "b:80"}, []string{"a:80=1", "b:80=1", "c:80=1"}},
		{"config wins over an added server", func(t *testing.T, g *Group) {
			if _, err := g.AddServer(srv(t, "c:80", "weight=9")); err != nil {
				t.Fatal(err)
			}
		}, []string{"a:80", "c:80=2"}, []string{"a:80=1", "c:80=2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := NewStore(newFakeClock())
			g, err := store.Build(Spec{Name: "u", Servers: []ServerSpec{srv(t, "a:80"), srv(t, "b:80")}})
			if err != nil {
				t.Fatal(err)
			}
			tt.api(t, g)
			var next []ServerSpec
			for _, l := range tt.next {
				addr, w, ok := strings.Cut(l, "=")
				s := srv(t, addr)
				if ok {
					s = srv(t, addr, "weight="+w)
				}
				next = append(next, s)
			}
			g2, err := store.Build(Spec{Name: "u", Servers: next})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range g2.Peers() {
				got = append(got, p.Addr()+"="+itoa(int64(p.Weight())))
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("after reload %v, want %v", got, tt.want)
			}
		})
	}
}

func mustUpdate(t *testing.T, g *Group, id int, f func(*ServerSpec)) {
	t.Helper()
	if _, err := g.UpdateServer(id, func(s *ServerSpec) error { f(s); return nil }); err != nil {
		t.Fatal(err)
	}
}

// TestReloadKeepsIDsAndState: ids and live counters survive a reload and
// an API change of another server.
func TestReloadKeepsIDsAndState(t *testing.T) {
	store := NewStore(newFakeClock())
	spec := Spec{Name: "u", Servers: []ServerSpec{srv(t, "a:80"), srv(t, "b:80")}}
	g, _ := store.Build(spec)
	p := pick(t, g, PickRequest{}) // held across everything below
	if _, err := g.AddServer(srv(t, "c:80")); err != nil {
		t.Fatal(err)
	}
	spec.Servers = append([]ServerSpec{srv(t, "z:80")}, spec.Servers...)
	g2, _ := store.Build(spec)
	want := map[string]int{"a:80": 0, "b:80": 1, "c:80": 2, "z:80": 3}
	for _, c := range g2.ServerConfs() {
		if want[c.Addr] != c.ID {
			t.Errorf("%s id %d, want %d", c.Addr, c.ID, want[c.Addr])
		}
	}
	if n := g2.Peer(p.Addr()).Active(); n != 1 {
		t.Fatalf("active %d after reload", n)
	}
	g.Done(p, Outcome{})
	if n := g2.Peer(p.Addr()).Active(); n != 0 {
		t.Fatalf("active %d after done", n)
	}
}

// TestChangeAfterReloadReachesLatest: a change made through the Group of
// the configuration before a reload lands on the new Group too.
func TestChangeAfterReloadReachesLatest(t *testing.T) {
	store := NewStore(newFakeClock())
	spec := Spec{Name: "u", Servers: []ServerSpec{srv(t, "a:80")}}
	old, _ := store.Build(spec)
	cur, _ := store.Build(spec)
	if _, err := old.AddServer(srv(t, "b:80")); err != nil {
		t.Fatal(err)
	}
	if got := addrs(cur); !slices.Equal(got, []string{"a:80", "b:80"}) {
		t.Fatalf("latest group serves %v", got)
	}
}

func TestStateFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "u.state")
	g, _ := build(t, Spec{Name: "u", StateFile: path, Servers: []ServerSpec{srv(t, "a:80")}})
	if _, err := g.AddServer(srv(t, "b:80", "weight=2", "max_fails=3", "fail_timeout=1500ms", "slow_start=30s", "backup")); err != nil {
		t.Fatal(err)
	}
	mustUpdate(t, g, 0, func(s *ServerSpec) { s.Down = true })
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := "server a:80 down;\nserver b:80 weight=2 max_fails=3 fail_timeout=1500ms slow_start=30s backup;\n"
	if got := string(b); !strings.HasSuffix(got, want) || !strings.HasPrefix(got, "#") {
		t.Fatalf("state file:\n%s\nwant it to end with\n%s", got, want)
	}
}

func TestStateFileWriteError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing-dir", "u.state")
	g, _ := build(t, Spec{Name: "u", StateFile: path, Servers: []ServerSpec{srv(t, "a:80")}})
	_, err := g.AddServer(srv(t, "b:80"))
	var pe *PersistError
	if !errors.As(err, &pe) {
		t.Fatalf("err %v", err)
	}
	if g.Peer("b:80") == nil {
		t.Fatal("change not applied when the file could not be written")
	}
}

// TestDynamicConcurrent: picks run while the API changes the group.
func TestDynamicConcurrent(t *testing.T) {
	g, _ := build(t, Spec{Name: "u", Servers: []ServerSpec{srv(t, "a:80"), srv(t, "b:80")}})
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 100000; i++ {
				select {
				case <-stop:
					return
				default:
				}
				var tr Tried
				r := PickRequest{Tried: &tr}
				for range 2 {
					p, err := g.Pick(&r)
					if err != nil {
						break
					}
					g.Done(p, Outcome{Result: ConnectError})
				}
			}
		}()
	}
	for i := range 200 {
		c, err := g.AddServer(srv(t, "c"+itoa(int64(i))+":80"))
		if err != nil {
			t.Error(err)
			break
		}
		mustUpdate(t, g, c.ID, func(s *ServerSpec) { s.Weight = 3 })
		if err := g.RemoveServer(c.ID); err != nil {
			t.Error(err)
			break
		}
	}
	close(stop)
	wg.Wait()
	for _, s := range g.Servers() {
		if s.Active != 0 {
			t.Errorf("%s active %d", s.Addr, s.Active)
		}
	}
}

func TestZombiesAndResetStats(t *testing.T) {
	g, _ := build(t, Spec{Name: "u", Servers: []ServerSpec{srv(t, "a:80"), srv(t, "b:80")}})
	held := pickPeer(t, g, g.Peer("a:80"))
	g.Done(pickPeer(t, g, g.Peer("b:80")), Outcome{Result: Success, Status: 200})
	if err := g.RemoveServer(held.ID()); err != nil {
		t.Fatal(err)
	}
	if n := g.Zombies(); n != 1 {
		t.Fatalf("zombies %d", n)
	}
	g.Done(held, Outcome{Result: Success})
	if n := g.Zombies(); n != 0 {
		t.Fatalf("zombies %d after the last request", n)
	}
	g.ResetStats()
	s := g.Servers()[0]
	if s.Requests != 0 || s.Responses[1] != 0 || !s.Selected.IsZero() {
		t.Fatalf("after reset %+v", s)
	}
}

// TestChangeThroughOldGroupFindsNewServer: ids are the group's, not one
// Group's: a Group of the configuration before a reload can change a
// server the reload added.
func TestChangeThroughOldGroupFindsNewServer(t *testing.T) {
	store := NewStore(newFakeClock())
	old, _ := store.Build(Spec{Name: "u", Servers: []ServerSpec{srv(t, "a:80")}})
	cur, _ := store.Build(Spec{Name: "u", Servers: []ServerSpec{srv(t, "a:80"), srv(t, "b:80")}})
	id := cur.Peer("b:80").ID()
	mustUpdate(t, old, id, func(s *ServerSpec) { s.Weight = 4 })
	if w := cur.Peer("b:80").Weight(); w != 4 {
		t.Fatalf("weight %d", w)
	}
	if err := old.RemoveServer(id); err != nil {
		t.Fatal(err)
	}
	if cur.Peer("b:80") != nil {
		t.Fatal("b still served")
	}
}

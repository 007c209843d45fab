package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

const ctlUsage = `Usage: bunsan ctl [options] COMMAND ARGS

Talks to bunsan's upstream API (the NGINX Plus API, "api write=on;").

Commands:
  servers GROUP                   list the servers with their state and load
  drain GROUP SERVER [-wait]      stop sending new requests to SERVER; with
                                  -wait, return once it has no active ones
  enable GROUP SERVER             take SERVER out of drain and down
  down GROUP SERVER               mark SERVER down (no requests at all)
  weight GROUP SERVER N           set SERVER's weight
  add GROUP ADDR [PARAM...]       add a server; PARAMs as in nginx: weight=N
                                  max_conns=N max_fails=N fail_timeout=T
                                  slow_start=T route=R backup down drain
  remove GROUP SERVER             remove SERVER (drain it first for no errors)

SERVER is the server's id or its address (HOST:PORT as in the configuration).

Options (anywhere on the line):
  -api URL        the API location (default http://127.0.0.1/api)
  -user U:P       HTTP basic credentials for auth_basic (default: the
                  BUNSAN_USER environment variable, which keeps the
                  password out of the process list)
  -timeout D      how long drain -wait waits (default 5m)
  -interval D     how often drain -wait polls (default 500ms)
  -stream         the stream upstreams instead of the http ones
`

// ctlOptions are the options of "bunsan ctl".
type ctlOptions struct {
	api      string
	user     string
	timeout  time.Duration
	interval time.Duration
	wait     bool
	stream   bool
	args     []string
}

// parseCtl reads options wherever they stand among the arguments, so
// "ctl drain app 1 --wait" reads as it is written.
func parseCtl(args []string) (*ctlOptions, error) {
	o := &ctlOptions{api: "http://127.0.0.1/api", timeout: 5 * time.Minute, interval: 500 * time.Millisecond}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if len(a) < 2 || a[0] != '-' {
			o.args = append(o.args, a)
			continue
		}
		name, val, hasVal := strings.Cut(strings.TrimLeft(a, "-"), "=")
		value := func() (string, error) {
			if hasVal {
				return val, nil
			}
			if i+1 >= len(args) {
				return "", fmt.Errorf("option -%s needs a value", name)
			}
			i++
			return args[i], nil
		}
		var err error
		switch name {
		case "wait":
			o.wait = true
		case "stream":
			o.stream = true
		case "api":
			o.api, err = value()
		case "user":
			o.user, err = value()
		case "timeout", "interval":
			var v string
			if v, err = value(); err == nil {
				var d time.Duration
				if d, err = time.ParseDuration(v); err == nil && d <= 0 {
					err = fmt.Errorf("-%s must be positive", name)
				}
				if name == "timeout" {
					o.timeout = d
				} else {
					o.interval = d
				}
			}
		default:
			return nil, fmt.Errorf("unknown option %q", a)
		}
		if err != nil {
			return nil, err
		}
	}
	o.api = strings.TrimRight(o.api, "/")
	return o, nil
}

// ctl is one run of "bunsan ctl": the API client and where it writes.
type ctl struct {
	o      *ctlOptions
	client *http.Client
	stdout io.Writer
	stderr io.Writer
	// tick paces drain -wait's polls and deadline ends its wait; tests
	// drive both.
	tick     <-chan time.Time
	deadline <-chan time.Time
	// tty shows drain progress on one rewritten line.
	tty bool
}

func runCtl(args []string, stdout, stderr io.Writer) int {
	o, err := parseCtl(args)
	if err != nil {
		fmt.Fprintf(stderr, "bunsan ctl: %v\n\n%s", err, ctlUsage)
		return 2
	}
	if o.user == "" {
		o.user = os.Getenv("BUNSAN_USER")
	}
	c := &ctl{o: o, client: &http.Client{Timeout: 30 * time.Second}, stdout: stdout, stderr: stderr, tty: isTerminal(stderr)}
	if o.wait {
		t := time.NewTicker(o.interval)
		defer t.Stop()
		c.tick = t.C
		d := time.NewTimer(o.timeout)
		defer d.Stop()
		c.deadline = d.C
	}
	return c.run()
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// need checks the argument count of a command.
func (c *ctl) need(n int, form string) bool {
	if len(c.o.args)-1 != n {
		fmt.Fprintf(c.stderr, "bunsan ctl: usage: bunsan ctl %s\n", form)
		return false
	}
	return true
}

func (c *ctl) run() int {
	if len(c.o.args) == 0 {
		fmt.Fprint(c.stderr, ctlUsage)
		return 2
	}
	a := c.o.args
	var err error
	switch a[0] {
	case "servers":
		if !c.need(1, "servers GROUP") {
			return 2
		}
		err = c.servers(a[1])
	case "drain":
		if !c.need(2, "drain GROUP SERVER [-wait]") {
			return 2
		}
		err = c.drain(a[1], a[2])
	case "enable":
		if !c.need(2, "enable GROUP SERVER") {
			return 2
		}
		err = c.patch(a[1], a[2], map[string]any{"drain": false, "down": false}, "enabled")
	case "down":
		if !c.need(2, "down GROUP SERVER") {
			return 2
		}
		err = c.patch(a[1], a[2], map[string]any{"down": true}, "down")
	case "weight":
		if !c.need(3, "weight GROUP SERVER N") {
			return 2
		}
		n, perr := strconv.Atoi(a[3])
		if perr != nil || n < 1 {
			fmt.Fprintf(c.stderr, "bunsan ctl: weight %q: want a whole number of at least 1\n", a[3])
			return 2
		}
		err = c.patch(a[1], a[2], map[string]any{"weight": n}, "weight "+a[3])
	case "add":
		if len(a) < 3 {
			c.need(2, "add GROUP ADDR [PARAM...]")
			return 2
		}
		err = c.add(a[1], a[2], a[3:])
	case "remove":
		if !c.need(2, "remove GROUP SERVER") {
			return 2
		}
		err = c.remove(a[1], a[2])
	case "help":
		fmt.Fprint(c.stdout, ctlUsage)
		return 0
	default:
		fmt.Fprintf(c.stderr, "bunsan ctl: unknown command %q\n\n%s", a[0], ctlUsage)
		return 2
	}
	if err != nil {
		fmt.Fprintf(c.stderr, "bunsan ctl: %v\n", err)
		return 1
	}
	return 0
}

// base is the URL of a group's API resources.
func (c *ctl) base(group string) string {
	kind := "http"
	if c.o.stream {
		kind = "stream"
	}
	return fmt.Sprintf("%s/9/%s/upstreams/%s", c.o.api, kind, url.PathEscape(group))
}

// apiError is the error object of the API.
type ctlAPIError struct {
	Error struct {
		Status int    `json:"status"`
		Text   string `json:"text"`
		Code   string `json:"code"`
	} `json:"error"`
}

// call sends one request and decodes the JSON answer into out.
func (c *ctl) call(method, u string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		return err
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.o.user != "" {
		user, pass, _ := strings.Cut(c.o.user, ":")
		req.SetBasicAuth(user, pass)
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		var e ctlAPIError
		if json.Unmarshal(b, &e) == nil && e.Error.Code != "" {
			return fmt.Errorf("%s %s: %d %s: %s", method, u, e.Error.Status, e.Error.Code, e.Error.Text)
		}
		return fmt.Errorf("%s %s: %s", method, u, resp.Status)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("%s %s: %v", method, u, err)
		}
	}
	return nil
}

// ctlServer is a server as the servers endpoint shows it.
type ctlServer struct {
	ID       int    `json:"id"`
	Server   string `json:"server"`
	Weight   int    `json:"weight"`
	MaxConns int    `json:"max_conns"`
	Backup   bool   `json:"backup"`
	Down     bool   `json:"down"`
	Drain    bool   `json:"drain"`
}

// ctlPeer is a server's live figures.
type ctlPeer struct {
	ID          int    `json:"id"`
	Server      string `json:"server"`
	State       string `json:"state"`
	Active      int64  `json:"active"`
	Requests    uint64 `json:"requests"`
	Connections uint64 `json:"connections"`
	Fails       uint64 `json:"fails"`
	Selected    string `json:"selected"`
}

// resolve finds a server's id from an id or an address.
func (c *ctl) resolve(group, server string) (int, string, error) {
	var list []ctlServer
	if err := c.call("GET", c.base(group)+"/servers", nil, &list); err != nil {
		return 0, "", err
	}
	id, numErr := strconv.Atoi(server)
	for _, s := range list {
		if (numErr == nil && s.ID == id) || s.Server == server || s.Server == server+":80" {
			return s.ID, s.Server, nil
		}
	}
	return 0, "", fmt.Errorf("upstream %q has no server %q", group, server)
}

func (c *ctl) peers(group string) ([]ctlPeer, error) {
	var u struct {
		Peers []ctlPeer `json:"peers"`
	}
	err := c.call("GET", c.base(group), nil, &u)
	return u.Peers, err
}

func (c *ctl) servers(group string) error {
	var list []ctlServer
	if err := c.call("GET", c.base(group)+"/servers", nil, &list); err != nil {
		return err
	}
	peers, err := c.peers(group)
	if err != nil {
		return err
	}
	live := map[int]ctlPeer{}
	for _, p := range peers {
		live[p.ID] = p
	}
	tw := tabwriter.NewWriter(c.stdout, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSERVER\tWEIGHT\tSTATE\tACTIVE\tREQUESTS\tFAILS\tSELECTED\tFLAGS")
	for _, s := range list {
		p := live[s.ID]
		var flags []string
		for _, f := range []struct {
			on   bool
			name string
		}{{s.Backup, "backup"}, {s.Down, "down"}, {s.Drain, "drain"}} {
			if f.on {
				flags = append(flags, f.name)
			}
		}
		fmt.Fprintf(tw, "%d\t%s\t%d\t%s\t%d\t%d\t%d\t%s\t%s\n", s.ID, s.Server, s.Weight, p.State, p.Active,
			p.Requests+p.Connections, p.Fails, since(p.Selected, time.Now()), strings.Join(flags, ","))
	}
	return tw.Flush()
}

func (c *ctl) patch(group, server string, body map[string]any, what string) error {
	id, addr, err := c.resolve(group, server)
	if err != nil {
		return err
	}
	if err := c.call("PATCH", fmt.Sprintf("%s/servers/%d", c.base(group), id), body, nil); err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "%s %s (id %d): %s\n", group, addr, id, what)
	return nil
}

func (c *ctl) drain(group, server string) error {
	if err := c.patch(group, server, map[string]any{"drain": true}, "draining"); err != nil {
		return err
	}
	if !c.o.wait {
		return nil
	}
	id, addr, err := c.resolve(group, server)
	if err != nil {
		return err
	}
	start := time.Now()
	for {
		peers, err := c.peers(group)
		if err != nil {
			return err
		}
		active := int64(-1)
		for _, p := range peers {
			if p.ID == id {
				active = p.Active
			}
		}
		if active == -1 {
			return fmt.Errorf("server %s left upstream %q while draining", addr, group)
		}
		if active == 0 {
			if c.tty {
				fmt.Fprint(c.stderr, "\r\033[K")
			}
			fmt.Fprintf(c.stdout, "%s %s (id %d): drained, no active connections\n", group, addr, id)
			return nil
		}
		if c.tty {
			fmt.Fprintf(c.stderr, "\r\033[Kdraining %s: %d active (%s)", addr, active, time.Since(start).Round(time.Second))
		}
		select {
		case <-c.tick:
		case <-c.deadline:
			if c.tty {
				fmt.Fprintln(c.stderr)
			}
			return fmt.Errorf("server %s still has %d active after %s (-timeout)", addr, active, c.o.timeout)
		}
	}
}

func (c *ctl) add(group, addr string, params []string) error {
	body := map[string]any{"server": addr}
	for _, p := range params {
		k, v, hasVal := strings.Cut(p, "=")
		switch {
		case !hasVal && (k == "backup" || k == "down" || k == "drain"):
			body[k] = true
		case hasVal && (k == "weight" || k == "max_conns" || k == "max_fails"):
			n, err := strconv.Atoi(v)
			if err != nil {
				return fmt.Errorf("invalid %s %q: want a whole number", k, v)
			}
			body[k] = n
		case hasVal && (k == "fail_timeout" || k == "slow_start" || k == "route"):
			body[k] = v
		default:
			return fmt.Errorf("unknown server parameter %q", p)
		}
	}
	var s ctlServer
	if err := c.call("POST", c.base(group)+"/servers", body, &s); err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "%s %s (id %d): added\n", group, s.Server, s.ID)
	return nil
}

func (c *ctl) remove(group, server string) error {
	id, addr, err := c.resolve(group, server)
	if err != nil {
		return err
	}
	if err := c.call("DELETE", fmt.Sprintf("%s/servers/%d", c.base(group), id), nil, nil); err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "%s %s (id %d): removed\n", group, addr, id)
	return nil
}

// since shows how long ago an API timestamp was, "never" when empty.
func since(ts string, now time.Time) string {
	if ts == "" {
		return "never"
	}
	t, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return ts
	}
	d := now.Sub(t)
	switch {
	case d < time.Second:
		return "now"
	case d < time.Hour:
		return d.Round(time.Second).String() + " ago"
	}
	return d.Round(time.Minute).String() + " ago"
}

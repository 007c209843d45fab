package h1server

import "time"

// idleList holds the parked connections of one keepalive_timeout value
// in the order they were parked, so their deadlines ascend: the sweep
// looks at the fronts only. Limits can change on reload, hence one list
// per value (usually one or two).
type idleList struct {
	timeout    time.Duration
	head, tail *conn
}

func (l *idleList) push(c *conn) {
	c.list, c.prev, c.next = l, l.tail, nil
	if l.tail != nil {
		l.tail.next = c
	} else {
		l.head = c
	}
	l.tail = c
}

func (l *idleList) remove(c *conn) {
	if c.prev != nil {
		c.prev.next = c.next
	} else {
		l.head = c.next
	}
	if c.next != nil {
		c.next.prev = c.prev
	} else {
		l.tail = c.prev
	}
	c.list, c.prev, c.next = nil, nil, nil
}

// sweepSlack batches the closing of connections whose deadlines are close
// together into one timer run.
const sweepSlack = 10 * time.Millisecond

package main

import (
	"fmt"
	"strings"
)

// options are nginx's command-line options.
type options struct {
	help, version, versionFull bool
	test, dump, quiet          bool
	signal                     string
	prefix                     string
	prefixSet                  bool
	errorLog                   string
	conf                       string
	directives                 string
}

// parseOptions reads arguments as nginx's ngx_get_options does: flags may
// be grouped ("-tq") and an option's value may follow attached ("-cFILE")
// or as the next argument ("-c FILE").
func parseOptions(args []string) (*options, error) {
	o := &options{}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if len(a) < 2 || a[0] != '-' {
			return nil, fmt.Errorf("invalid option: %q", a)
		}
		for j := 1; j < len(a); j++ {
			c := a[j]
			switch c {
			case '?', 'h':
				o.help = true
			case 'v':
				o.version = true
			case 'V':
				o.version, o.versionFull = true, true
			case 't':
				o.test = true
			case 'T':
				o.test, o.dump = true, true
			case 'q':
				o.quiet = true
			case 's', 'p', 'e', 'c', 'g':
				val := a[j+1:]
				if val == "" {
					if i+1 >= len(args) {
						return nil, fmt.Errorf("option \"-%c\" requires %s", c, optionWhat(c))
					}
					i++
					val = args[i]
				}
				if err := o.set(c, val); err != nil {
					return nil, err
				}
				j = len(a)
			default:
				return nil, fmt.Errorf("invalid option: \"%c\"", c)
			}
		}
	}
	return o, nil
}

func optionWhat(c byte) string {
	switch c {
	case 's':
		return "signal name"
	case 'p':
		return "directory name"
	case 'e', 'c':
		return "file name"
	}
	return "parameter"
}

func (o *options) set(c byte, val string) error {
	switch c {
	case 's':
		switch val {
		case "stop", "quit", "reopen", "reload":
			o.signal = val
		default:
			return fmt.Errorf("invalid option: \"-s %s\": use stop, quit, reopen or reload", val)
		}
	case 'p':
		o.prefix, o.prefixSet = val, true
		if !strings.HasSuffix(o.prefix, "/") {
			o.prefix += "/"
		}
	case 'e':
		o.errorLog = val
	case 'c':
		o.conf = val
	case 'g':
		o.directives = val
	}
	return nil
}

const usage = `Usage: bunsan [-?hvVtTq] [-s signal] [-p prefix]
             [-e filename] [-c filename] [-g directives]
       bunsan demo [-listen ADDR] [-backends N]
       bunsan ctl [-api URL] COMMAND ...

Options:
  -?,-h         : this help
  -v            : show version and exit
  -V            : show version and build information and exit
  -t            : test configuration and exit
  -T            : test configuration, dump it and exit
  -q            : suppress non-error messages during configuration testing
  -s signal     : send signal to a master process: stop, quit, reopen, reload
  -p prefix     : set prefix path (default: /etc/bunsan/)
  -e filename   : set error log file (default: stderr)
  -c filename   : set configuration file (default: /etc/bunsan/bunsan.conf)
  -g directives : set global directives out of configuration file

Commands:
  demo          : start three demo application servers and a load balancer
                  in front of them on 127.0.0.1:8080, no configuration needed
  ctl           : talk to a running bunsan's upstream API: servers, drain,
                  enable, down, weight, add, remove ("bunsan ctl -h")
`

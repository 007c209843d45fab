package admin

import (
	"log/slog"
	"net/http"
	"strconv"

	"bunsan/internal/config"
)

// CheckBasic reports whether r carries HTTP basic credentials of a user
// in users with the right password.
func CheckBasic(users Htpasswd, r *http.Request) bool {
	user, pass, ok := r.BasicAuth()
	if !ok {
		return false
	}
	hash, ok := users[user]
	if !ok {
		// Spend the time a check would, so that timing does not tell
		// which users exist.
		Verify("$apr1$xxxxxxxx$", pass)
		return false
	}
	return Verify(hash, pass)
}

// RequireBasic wraps h with auth_basic: a request without valid
// credentials gets 401 and a WWW-Authenticate challenge for the realm.
// The user file is read as requests need it (reread when it changes); a
// file that cannot be read answers 500, as in nginx.
func RequireBasic(h http.Handler, auth *config.BasicAuth) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		users, err := LoadHtpasswd(auth.UserFile)
		if err != nil {
			slog.Error("auth_basic_user_file", "error", err)
			http.Error(w, "500 Internal Server Error", http.StatusInternalServerError)
			return
		}
		if !CheckBasic(users, r) {
			w.Header().Set("WWW-Authenticate", "Basic realm="+strconv.Quote(auth.Realm))
			http.Error(w, "401 Authorization Required", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}

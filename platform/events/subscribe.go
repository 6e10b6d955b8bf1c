package events

import (
	"net/http"

	"shop/platform/httpx"
)

// DeadLettersRoute is where the sidecar delivers the dead letters of every
// topic a service subscribes to (DeadLetters.Handler).
const DeadLettersRoute = "/events/dead-letters"

// Subscription is one entry of a programmatic subscription: the sidecar
// delivers the events of Topic on PubsubName to Route.
type Subscription struct {
	PubsubName      string `json:"pubsubname"`
	Topic           string `json:"topic"`
	Route           string `json:"route"`
	DeadLetterTopic string `json:"deadLetterTopic,omitempty"`
}

// Subscriptions declares the topics a service consumes, topic -> route,
// each with its dead-letter topic (DeadLetterTopic), and subscribes to
// those at DeadLettersRoute. The sidecar reads them once at start from
// GET /dapr/subscribe (ServeSubscriptions).
func Subscriptions(pubsub string, routes ...Route) []Subscription {
	subs := make([]Subscription, 0, 2*len(routes))
	for _, r := range routes {
		subs = append(subs, Subscription{PubsubName: pubsub, Topic: r.Topic, Route: r.Route, DeadLetterTopic: DeadLetterTopic(r.Topic)})
	}
	for _, r := range routes {
		subs = append(subs, Subscription{PubsubName: pubsub, Topic: DeadLetterTopic(r.Topic), Route: DeadLettersRoute})
	}
	return subs
}

// Route names where one topic's events are delivered.
type Route struct{ Topic, Route string }

// ServeSubscriptions answers GET /dapr/subscribe with subs.
func ServeSubscriptions(subs []Subscription) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		httpx.WriteJSON(w, http.StatusOK, subs)
	}
}

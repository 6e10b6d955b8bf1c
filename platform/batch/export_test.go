package batch

// KeysHeld is how many keys k holds: those with a write under way.
func KeysHeld[T any](k *Keyed[T]) int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.keys)
}

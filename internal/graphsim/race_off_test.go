//go:build !race

package graphsim

// raceEnabled reports a -race build, where the simulator runs several times slower.
const raceEnabled = false

// Package preprocess turns a digit drawn by hand into what MNIST's digits
// are, so that a network trained on MNIST sees a drawing the way it saw
// its training digits. LeCun, Cortes and Burges describe MNIST's
// preparation: each NIST digit's bounding box was size-normalised to fit a
// 20x20 box keeping its aspect ratio (the anti-aliasing of that scaling
// gives the grey levels), then the digit was centred in the 28x28 field by
// its centre of mass. Normalize does the same to any 28x28 drawing; Bounds
// and CentreOfMass are its two measurements.
//
// Images are float32 intensities in [0, 1], row-major, 0 the background.
// Pixels converts one to MNIST's uint8 pixels.
package preprocess

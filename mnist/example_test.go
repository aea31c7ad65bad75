package mnist_test

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/mnist-tui/mnist-tui/mnist"
)

// The recipe's loop over one set: a new order per epoch, then every batch
// into the same two buffers.
func ExampleLoader() {
	const n = 150
	set, err := mnist.NewSet("demo", make([]uint8, n*mnist.Pixels), n, make([]uint8, n))
	if err != nil {
		fmt.Println(err)
		return
	}
	loader, err := mnist.NewLoader(set, 64, true, 1)
	if err != nil {
		fmt.Println(err)
		return
	}
	x := make([]float32, 64*mnist.Pixels) // time-major: [row][digit][column]
	y := make([]int, 64)
	for epoch := 1; epoch <= 2; epoch++ {
		loader.Shuffle(epoch)
		for k := range loader.Batches() {
			size := loader.Batch(k, x, y)
			fmt.Printf("epoch %d batch %d: %d digits, first pixel %v\n", epoch, k, size, x[0])
		}
	}
	// Output:
	// epoch 1 batch 0: 64 digits, first pixel -1
	// epoch 1 batch 1: 64 digits, first pixel -1
	// epoch 1 batch 2: 22 digits, first pixel -1
	// epoch 2 batch 0: 64 digits, first pixel -1
	// epoch 2 batch 1: 64 digits, first pixel -1
	// epoch 2 batch 2: 22 digits, first pixel -1
}

// A missing file is named, with the .gz alternative tried.
func ExampleLoadDir() {
	_, _, err := mnist.LoadDir("/nonexistent")
	fmt.Println(err)
	// Output:
	// mnist: /nonexistent/train-images-idx3-ubyte: neither it nor train-images-idx3-ubyte.gz exists: file does not exist
}

// Errors say which file is broken and where, and wrap a sentinel.
func ExampleReadImages() {
	// A header claiming 60,000 images of 28x28, then one image.
	stream := append([]byte{0, 0, 8, 3, 0, 0, 0xea, 0x60, 0, 0, 0, 28, 0, 0, 0, 28}, make([]byte, mnist.Pixels)...)
	_, _, err := mnist.ReadImages(bytes.NewReader(stream), "train-images-idx3-ubyte")
	fmt.Println(err)
	fmt.Println(errors.Is(err, mnist.ErrTruncated))
	// Output:
	// mnist: train-images-idx3-ubyte: truncated at image 1 of 60000 (offset 800)
	// true
}

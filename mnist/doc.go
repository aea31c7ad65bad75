// Package mnist is the data side of mnist-tui: the MNIST database of
// handwritten digits embedded in the binary, a strict parser for the IDX
// files it ships in, a seeded train/validation split and a mini-batch
// Loader that normalises pixels the way the PyTorch recipe does.
//
// # Data
//
// A Set keeps its images as uint8 pixels, 28x28 row-major, one after the
// other, and its labels as uint8 in 0..9. Embedded returns the 60,000
// training and 10,000 test digits from the four gzip files compiled into
// the package with go:embed (MNIST by Yann LeCun, Corinna Cortes and
// Christopher J. C. Burges, CC BY-SA 3.0). LoadDir reads the same four file
// names from a directory, so any 28x28 IDX dataset with ten classes
// (Fashion-MNIST, Kuzushiji-MNIST) can stand in for it.
//
// # Parsing
//
// ReadImages and ReadLabels parse one IDX stream, raw or gzip (recognised by
// its magic bytes, not by a file name). They validate everything: the magic
// number, the element type (unsigned byte), the number of dimensions, the
// 28x28 shape, labels above 9, a stream shorter than its header claims and
// bytes after the data. A header may declare at most MaxImages (131,072)
// images or labels (ErrTooMany): that bounds what any file costs, however
// far its gzip stream would inflate (a gzip bomb stops one byte past the
// declared images, ErrTrailing). Below the cap memory grows only with the
// bytes that actually arrive, so a header claiming more images than the
// file holds costs little until the images are there (for gzip input,
// "arrive" means after decompression).
//
// LoadDir refuses anything but regular files before opening them
// (ErrNotRegular: a FIFO would block the program) and files without images
// (ErrEmpty); LoadDirContext and EmbeddedContext stop when their context
// is cancelled.
// Errors name the file and the image, label or offset (counted in the IDX
// content, after decompression) where things went wrong and wrap one of
// the sentinel errors (ErrFormat,
// ErrTruncated, ErrTrailing, ErrMismatch, ErrLabel, ErrShape, ErrInvalid,
// ErrTooMany, ErrEmpty, ErrNotRegular)
// for errors.Is:
//
//	mnist: train-images-idx3-ubyte: truncated at image 1234 of 60000 (offset 967472)
//
// # Batches
//
// Split shuffles a Set with a seeded PCG and cuts it in two (the recipe's
// 40,000 train / 20,000 validation). A Loader hands out batches of a Set in
// order or in a per-epoch shuffled order reproducible from (seed, epoch).
// Loader.Batch writes the batch into caller-owned buffers without
// allocating: pixels p become (p/255 - 0.5)/0.5 in float32 (so 0 is -1 and
// 255 is 1), laid out time-major (row t of every image of the batch, then
// row t+1), the layout a recurrent network reading one row per step wants.
// The last batch may be short, as with PyTorch's DataLoader.
//
// The package imports nothing from the terminal UI or the model.
package mnist

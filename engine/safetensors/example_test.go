package safetensors_test

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/mnist-tui/mnist-tui/engine/safetensors"
)

func Example() {
	ckpt := safetensors.File{
		Metadata: map[string]string{"epoch": "3"},
		Tensors: []safetensors.Tensor{
			{Name: "fc.weight", Shape: []int{2, 2}, Data: []float32{1, 2, 3, 4}},
			{Name: "fc.bias", Shape: []int{2}, Data: []float32{0.5, -0.5}},
		},
	}
	var buf bytes.Buffer
	if err := safetensors.Write(&buf, ckpt); err != nil {
		fmt.Println(err)
		return
	}
	b := buf.Bytes()
	header := b[8 : 8+binary.LittleEndian.Uint64(b)]
	fmt.Printf("%d-byte header: %s\n", len(header), bytes.TrimRight(header, " "))

	f, err := safetensors.Read(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		fmt.Println(err)
		return
	}
	w, _ := f.Get("fc.weight")
	fmt.Println(w.Shape, w.Data, f.Metadata["epoch"])

	// A damaged file says what is wrong and where.
	b[len(b)-1] = 0xff // fc.weight's last value, 4, becomes -Inf
	_, err = safetensors.Read(bytes.NewReader(b), int64(len(b)))
	fmt.Println(err)
	// Output:
	// 160-byte header: {"__metadata__":{"epoch":"3"},"fc.bias":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"fc.weight":{"dtype":"F32","shape":[2,2],"data_offsets":[8,24]}}
	// [2 2] [1 2 3 4] 3
	// safetensors: tensor "fc.weight": non-finite value: element 3 [1 1] is -Inf
}

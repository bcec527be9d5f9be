// hwflow_join: two tensors side by side along the channels (a Concatenate of branches), the RTL twin
// of hwflow_spike_join.h (conventions of hwflow/ops/join.py).
//
// Memories: input A plane t, pixel p, word j (W1 channels) at t*A_STRIDE + p*WPP1 + j, input B likewise
// (W2 channels, B_STRIDE, WPP2), both read asynchronously; output plane t, pixel p, word j (WORD
// channels) at t*OUT_STRIDE + p*WPP + j, read asynchronously by the next block. Channel c of a pixel
// is A's channel c for c < C1, else B's channel c - C1. Every value has BITS bits: 1 for spike planes,
// the ANN's level width (one plane) for architecture 'ann'. Whole frames only (LINE = 0): the block
// starts once both producers are done (the top runs the blocks one after another).
// Per plane and pixel: R = max(WPP1, WPP2) cycles read word r of A and of B into the pixel register,
// then WPP cycles write the output words. Cycles from `start` to `done`:
//   STEPS * PIXELS * (R + WPP) + 1
module hwflow_join #(
    parameter STEPS = 1,
    parameter PIXELS = 1,       // H * W
    parameter C1 = 1,
    parameter C2 = 1,
    parameter W1 = 1,           // channels per word of A
    parameter W2 = 1,           // channels per word of B
    parameter WORD = 1,         // channels per output word
    parameter BITS = 1,
    parameter IN_ROWS = 1,      // the producers' output rows (the handshake: needed whole)
    parameter LINE = 0,         // whole frames only (hwflow.rtl.generate refuses line buffers for a graph)
    parameter OUT_RING = 1,     // (whole frames: the memory holds every row)
    parameter WPP1 = (C1 + W1 - 1) / W1,
    parameter WPP2 = (C2 + W2 - 1) / W2,
    parameter WPP = (C1 + C2 + WORD - 1) / WORD,
    parameter R = WPP1 > WPP2 ? WPP1 : WPP2,
    parameter A_STRIDE = 1 << $clog2(PIXELS * WPP1),
    parameter B_STRIDE = 1 << $clog2(PIXELS * WPP2),
    parameter OUT_STRIDE = 1 << $clog2(PIXELS * WPP),
    parameter A_AW = $clog2(STEPS * A_STRIDE + 1),
    parameter B_AW = $clog2(STEPS * B_STRIDE + 1),
    parameter OUT_AW = $clog2(STEPS * OUT_STRIDE + 1)
) (
    input wire clk,
    input wire rst,
    input wire start,
    output wire done,
    output wire [A_AW-1:0] in_addr,
    input wire [W1*BITS-1:0] in_data,
    output wire [B_AW-1:0] in2_addr,
    input wire [W2*BITS-1:0] in2_data,
    input wire [OUT_AW-1:0] out_addr,
    output wire [WORD*BITS-1:0] out_data,
    input wire [15:0] in_rows,
    output wire [15:0] in_need,
    input wire [15:0] in2_rows,
    output wire [15:0] in2_need,
    output wire [15:0] out_rows,
    input wire [15:0] out_need
);
    assign in_need = IN_ROWS;   // whole frames: nothing is released early
    assign in2_need = IN_ROWS;
    assign out_rows = 16'd0;
    localparam S_IDLE = 2'd0, S_READ = 2'd1, S_WRITE = 2'd2, S_DONE = 2'd3;
    localparam PIX_BITS = WPP * WORD * BITS;
    reg [1:0] state;
    assign done = state == S_DONE;

    reg [$clog2(STEPS + 1)-1:0] t;
    reg [$clog2(PIXELS + 1)-1:0] p;
    reg [$clog2(R + 1)-1:0] r;
    reg [$clog2(WPP + 1)-1:0] j;
    reg [A_AW-1:0] a_base;      // t*A_STRIDE + p*WPP1, kept by additions
    reg [B_AW-1:0] b_base;
    reg [OUT_AW-1:0] o_base;
    reg [PIX_BITS-1:0] pix;     // the pixel's C1 + C2 values (bits above them stay 0)

    assign in_addr = a_base + (r < WPP1 ? r : 0);
    assign in2_addr = b_base + (r < WPP2 ? r : 0);

    reg [WORD*BITS-1:0] omem [0:STEPS * OUT_STRIDE - 1];
    assign out_data = omem[out_addr];

    integer n;
    always @(posedge clk) begin
        if (state == S_IDLE && start) pix <= 0;
        if (state == S_READ) begin
            for (n = 0; n < W1; n = n + 1)
                if (r < WPP1 && r * W1 + n < C1) pix[(r * W1 + n) * BITS +: BITS] <= in_data[n * BITS +: BITS];
            for (n = 0; n < W2; n = n + 1)
                if (r < WPP2 && r * W2 + n < C2) pix[(C1 + r * W2 + n) * BITS +: BITS] <= in2_data[n * BITS +: BITS];
        end
        if (state == S_WRITE) omem[o_base + j] <= pix[j * WORD * BITS +: WORD * BITS];
    end

    always @(posedge clk) begin
        if (rst) begin
            state <= S_IDLE;
        end else begin
            case (state)
                S_IDLE: if (start) begin
                    state <= S_READ;
                    {t, p, r, j, a_base, b_base, o_base} <= 0;
                end
                S_READ: begin
                    r <= r + 1'b1;
                    if (r == R - 1) begin
                        r <= 0;
                        state <= S_WRITE;
                    end
                end
                S_WRITE: begin
                    j <= j + 1'b1;
                    if (j == WPP - 1) begin  // the next pixel, or the next plane
                        j <= 0;
                        state <= S_READ;
                        p <= p + 1'b1;
                        a_base <= a_base + WPP1;
                        b_base <= b_base + WPP2;
                        o_base <= o_base + WPP;
                        if (p == PIXELS - 1) begin
                            p <= 0;
                            t <= t + 1'b1;
                            a_base <= (t + 1'b1) * A_STRIDE;
                            b_base <= (t + 1'b1) * B_STRIDE;
                            o_base <= (t + 1'b1) * OUT_STRIDE;
                            if (t == STEPS - 1) state <= S_DONE;
                        end
                    end
                end
                default: state <= S_IDLE;
            endcase
        end
    end
endmodule

// hwflow_maxpool: max pooling, channels last, WORD channels per cycle; the RTL twin of
// hwflow_bitserial_pool.h (conventions of hwflow/ops/maxpool.py).
//
// Memories: input plane t, row y, column x, word j (WORD channels) at
// t*IN_STRIDE + ((y mod IN_RING)*IN_W + x)*WPP + j (the producer's layout); output plane t, row oy,
// column ox, word j at t*OUT_STRIDE + ((oy mod OUT_RING)*OUT_W + ox)*WPP + j, read asynchronously by
// the next block. A window tap outside the image (padding) reads as 0. Rows: the handshake of
// hwflow_if_layer.v (in_rows, in_need, out_rows, out_need); an output row starts once its windows'
// input rows are written and its ring slot is free.
//   ANALOG=0, bit-serial on MSB-first spike planes: per output pixel and word, plane by plane, the
//             output bit is the OR over the window inputs still tied for the maximum ("alive"),
//             and an input that had a 0 where the output had a 1 drops out. No adder, no compare.
//   ANALOG=1 (the ANN's levels, BITS wide, one plane): the running maximum of the window.
// U_H, U_W > 1: output pixel (oy, ox) is the window of pooled pixel (oy / U_H, ox / U_W), nearest
// upsampling after the pool (the window corner moves every U_H rows / U_W columns); with a 1x1
// window, UpSampling2D (hwflow/ops/upsample.py).
// Cycles from `start` to `done` (P = OUT_H*OUT_W, A = P_H*P_W taps, WPP = ceil(C/WORD)):
//   P * WPP * STEPS * (A + 1) + 1     (per plane: A taps read, 1 to write; then done 1)
//   plus, with line buffers, the cycles an output row waits for its input rows or its ring slot.
module hwflow_maxpool #(
    parameter C = 1,
    parameter IN_H = 2,
    parameter IN_W = 2,
    parameter OUT_H = 1,
    parameter OUT_W = 1,
    parameter P_H = 2,
    parameter P_W = 2,
    parameter S_H = 2,
    parameter S_W = 2,
    parameter PAD_T = 0,
    parameter PAD_L = 0,
    parameter U_H = 1,          // output rows per pooled row (nearest upsampling)
    parameter U_W = 1,          // output columns per pooled column
    parameter STEPS = 1,
    parameter WORD = 1,
    parameter ANALOG = 0,
    parameter BITS = 1,
    parameter IN_RING = IN_H,   // input rows the producer's memory holds
    parameter OUT_RING = OUT_H, // output rows this block's memory holds
    parameter IN_ROWS = IN_H,   // the producer's output rows
    parameter IN_WHOLE = 0,     // 1: start once the producer has written all IN_ROWS
    parameter LINE = 0,         // 1: line buffers, the row handshake (0: whole frames)
    parameter WPP = (C + WORD - 1) / WORD,
    parameter IN_STRIDE = 1 << $clog2(IN_RING * IN_W * WPP),
    parameter OUT_STRIDE = 1 << $clog2(OUT_RING * OUT_W * WPP),
    parameter IN_AW = $clog2(STEPS * IN_STRIDE + 1),
    parameter OUT_AW = $clog2(STEPS * OUT_STRIDE + 1),
    parameter DW = ANALOG ? WORD * BITS : WORD
) (
    input wire clk,
    input wire rst,
    input wire start,
    output wire done,
    output wire [IN_AW-1:0] in_addr,
    input wire [DW-1:0] in_data,
    input wire [OUT_AW-1:0] out_addr,
    output wire [DW-1:0] out_data,
    input wire [15:0] in_rows,
    output wire [15:0] in_need,
    output wire [15:0] out_rows,
    input wire [15:0] out_need
);
    reg [15:0] rows_q;  // output rows written (the handshake's out_rows with LINE)
    assign out_rows = LINE ? rows_q : 16'd0;
    localparam S_IDLE = 2'd0, S_READ = 2'd1, S_WRITE = 2'd2, S_DONE = 2'd3;
    localparam A = P_H * P_W;
    reg [1:0] state;
    assign done = state == S_DONE;

    reg [$clog2(OUT_H + 1)-1:0] oy;
    reg [$clog2(OUT_W + 1)-1:0] ox;
    reg [$clog2(U_H + 1)-1:0] uy;           // output row within its pooled row
    reg [$clog2(U_W + 1)-1:0] ux;           // output column within its pooled column
    reg [$clog2(WPP + 1)-1:0] j;
    reg [$clog2(STEPS + 1)-1:0] t;
    reg [$clog2(P_H + 1)-1:0] py;
    reg [$clog2(P_W + 1)-1:0] px;
    reg [$clog2(A + 1)-1:0] a;
    reg [OUT_AW-1:0] out_word;              // p * WPP + j

    // The window's corner (iy0, ix0); the row bases of its first row, r0, and of the tap's row, trow
    // (row y at y*ROW_WORDS, or in a ring at (y mod IN_RING)*ROW_WORDS); the column words c0 = ix0*WPP
    // and tcol = px*WPP: kept by additions of constants (no multiplier), signed.
    localparam ROW_WORDS = IN_W * WPP;
    localparam RING_WORDS = IN_RING * ROW_WORDS;
    localparam IN_WRAP = IN_RING < IN_H;  // a ring: row bases wrap at RING_WORDS
    localparam integer R0 = IN_WRAP ? ((IN_RING - PAD_T % IN_RING) % IN_RING) * ROW_WORDS : -PAD_T * ROW_WORDS;
    localparam integer NEXT_R = S_H * ROW_WORDS;
    localparam RING_OUT = OUT_RING * OUT_W * WPP;  // output words per plane
    localparam SW = $clog2(IN_H * IN_W * WPP + IN_H + IN_W + 1) + 3;
    reg signed [SW-1:0] iy0, ix0, c0, tcol, r0, trow;
    wire signed [SW-1:0] r0_next = r0 + NEXT_R;
    wire signed [SW-1:0] r0_wrap = IN_WRAP && r0_next >= RING_WORDS ? r0_next - RING_WORDS : r0_next;
    wire signed [SW-1:0] trow_next = trow + ROW_WORDS;
    wire signed [SW-1:0] iy = iy0 + $signed({1'b0, py});
    wire signed [SW-1:0] ix = ix0 + $signed({1'b0, px});
    wire in_image = iy >= 0 && iy < IN_H && ix >= 0 && ix < IN_W;
    wire signed [SW-1:0] pix_word = trow + c0 + tcol + $signed({1'b0, j});
    assign in_addr = t * IN_STRIDE + (in_image ? pix_word[IN_AW-1:0] : {IN_AW{1'b0}});
    wire [DW-1:0] data = in_image ? in_data : {DW{1'b0}};

    // Row handshake (LINE): may the next output row start (its first read)?
    wire signed [SW-1:0] rows_read = iy0 + P_H;
    wire in_ready = IN_WHOLE ? in_rows >= IN_ROWS : (in_rows >= IN_H || $signed({1'b0, in_rows}) >= rows_read);
    wire [16:0] slots = out_need + OUT_RING;
    wire hold = LINE && state == S_READ && ox == 0 && j == 0 && t == 0 && a == 0 && !(in_ready && oy < slots);
    wire [15:0] first_row = IN_WHOLE || iy0 < 0 ? 16'd0 : iy0;  // of the current output row's windows
    assign in_need = !LINE || state == S_IDLE || state == S_DONE ? IN_ROWS : first_row;

    reg [DW-1:0] omem [0:STEPS * OUT_STRIDE - 1];
    assign out_data = omem[out_addr];
    wire [OUT_AW-1:0] w_addr = t * OUT_STRIDE + out_word;

    generate
        if (ANALOG) begin : levels
            reg [DW-1:0] m;                 // running maximum, WORD lanes
            integer n;
            reg [DW-1:0] next;
            always @(*)
                for (n = 0; n < WORD; n = n + 1)
                    next[n*BITS +: BITS] = a == 0 || data[n*BITS +: BITS] > m[n*BITS +: BITS]
                                           ? data[n*BITS +: BITS] : m[n*BITS +: BITS];
            always @(posedge clk) begin
                if (state == S_READ && !hold) m <= next;
                if (state == S_WRITE) omem[w_addr] <= m;
            end
        end else begin : bitserial
            reg [WORD-1:0] taps [0:A-1];    // this plane's bits of the window
            reg [WORD-1:0] alive [0:A-1];   // still tied for the maximum
            reg [WORD-1:0] o;
            integer n;
            always @(*) begin
                o = 0;
                for (n = 0; n < A; n = n + 1)
                    o = o | ((t == 0 ? {WORD{1'b1}} : alive[n]) & taps[n]);
            end
            always @(posedge clk) begin
                if (state == S_READ && !hold) taps[a] <= data;
                if (state == S_WRITE) begin
                    omem[w_addr] <= o;
                    for (n = 0; n < A; n = n + 1)
                        alive[n] <= (t == 0 ? {WORD{1'b1}} : alive[n]) & (taps[n] | ~o);
                end
            end
        end
    endgenerate

    always @(posedge clk) begin
        if (rst) begin
            state <= S_IDLE;
        end else begin
            case (state)
                S_IDLE: if (start) begin
                    state <= S_READ;
                    {oy, ox, uy, ux, j, t, py, px, a, out_word, tcol, rows_q} <= 0;
                    iy0 <= -PAD_T;
                    ix0 <= -PAD_L;
                    r0 <= R0;
                    trow <= R0;
                    c0 <= -PAD_L * WPP;
                end
                S_READ: if (!hold) begin
                    a <= a + 1'b1;
                    px <= px == P_W - 1 ? 0 : px + 1'b1;
                    if (px == P_W - 1) begin
                        py <= py + 1'b1;
                        trow <= IN_WRAP && trow_next >= RING_WORDS ? trow_next - RING_WORDS : trow_next;
                    end
                    tcol <= px == P_W - 1 ? 0 : tcol + WPP;
                    if (a == A - 1) state <= S_WRITE;
                end
                S_WRITE: begin
                    a <= 0;
                    py <= 0;
                    px <= 0;
                    trow <= r0;
                    tcol <= 0;
                    state <= S_READ;
                    t <= t + 1'b1;
                    if (t == STEPS - 1) begin  // the next word of the pixel, or the next pixel
                        t <= 0;
                        j <= j == WPP - 1 ? 0 : j + 1'b1;
                        out_word <= OUT_RING < OUT_H && out_word + 1'b1 == RING_OUT ? 0 : out_word + 1'b1;
                        if (j == WPP - 1) begin
                            ox <= ox == OUT_W - 1 ? 0 : ox + 1'b1;
                            ux <= ox == OUT_W - 1 || ux == U_W - 1 ? 0 : ux + 1'b1;
                            ix0 <= ox == OUT_W - 1 ? -PAD_L : ux == U_W - 1 ? ix0 + S_W : ix0;
                            c0 <= ox == OUT_W - 1 ? -PAD_L * WPP : ux == U_W - 1 ? c0 + S_W * WPP : c0;
                            if (ox == OUT_W - 1) begin
                                oy <= oy + 1'b1;
                                uy <= uy == U_H - 1 ? 0 : uy + 1'b1;
                                rows_q <= rows_q + 1'b1;
                                if (uy == U_H - 1) begin
                                    iy0 <= iy0 + S_H;
                                    if (OUT_H > 1) begin
                                        r0 <= r0_wrap;
                                        trow <= r0_wrap;
                                    end
                                end
                            end
                            if (oy == OUT_H - 1 && ox == OUT_W - 1) state <= S_DONE;
                        end
                    end
                end
                default: state <= S_IDLE;
            endcase
        end
    end
endmodule

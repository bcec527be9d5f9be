// hwflow_encode: the input encoder. Takes one input level per AXI-Stream beat (N beats per sample)
// and keeps the sample for the first layer, read asynchronously:
//   BITPLANE=0 (direct): N signed levels of LEVEL_BITS, address i (in the ring: see Rows);
//   BITPLANE=1: STEPS planes of MSB-first bits, address plane*STRIDE + pixel*WPP + word
//               (STRIDE = WORDS rounded up to a power of two: no multiplier in the address);
//               the input is N/C pixels of C channels (channels last), WPP = ceil(C/WORD) words
//               per pixel: channel c's bit STEPS-1-plane is bit c%WORD of the pixel's word c/WORD.
// Rows: the input is H = N/(W*C) rows of W pixels; the memory holds RING of them (all, or a ring of
// line buffers: row y at (y mod RING)*W*C, resp. (y mod RING)*W*WPP), with the row handshake of
// hwflow_if_layer.v: out_rows = rows received, and a row is taken (tready) only while
// y < out_need + RING.
// Cycles from `start` to `done`: N + 1 with a beat every cycle (one more per cycle without tvalid,
// or while a row waits for its ring slot).
module hwflow_encode #(
    parameter N = 4,
    parameter STEPS = 1,
    parameter BITPLANE = 0,
    parameter LEVEL_BITS = 8,
    parameter WORD = 1,
    parameter C = N,            // channels per pixel (a flat input: one pixel of N channels)
    parameter W = N / C,        // pixels per row
    parameter RING = N / (W * C),  // rows the memory holds (all H rows: the whole frame)
    parameter LINE = 0,         // 1: line buffers, the row handshake (0: whole frames)
    parameter TDATA_BITS = 8,
    parameter WORDS = RING * W * (BITPLANE ? (C + WORD - 1) / WORD : C),
    parameter STRIDE = BITPLANE ? 1 << $clog2(WORDS) : WORDS,  // words per plane in the read address
    parameter AW = $clog2(STEPS * STRIDE + 1),
    parameter DW = BITPLANE ? WORD : LEVEL_BITS
) (
    input wire clk,
    input wire rst,
    input wire start,
    output wire done,
    input wire [TDATA_BITS-1:0] s_axis_tdata,
    input wire s_axis_tvalid,
    output wire s_axis_tready,
    input wire [AW-1:0] rd_addr,
    output wire [DW-1:0] rd_data,
    output wire [15:0] out_rows,
    input wire [15:0] out_need
);
    reg [15:0] rows_q;  // output rows written (the handshake's out_rows with LINE)
    assign out_rows = LINE ? rows_q : 16'd0;
    localparam S_IDLE = 2'd0, S_LOAD = 2'd1, S_DONE = 2'd2;
    reg [1:0] state;
    localparam ROW_BEATS = W * C;
    reg [$clog2(N + 1)-1:0] i;
    reg [$clog2(ROW_BEATS + 1)-1:0] col;   // beats of the current row
    reg [$clog2(WORDS + 1)-1:0] wa;        // write address in the ring
    assign done = state == S_DONE;
    wire [16:0] slots = out_need + RING;   // rows it may have received
    assign s_axis_tready = state == S_LOAD && (!LINE || out_rows < slots);
    wire beat = s_axis_tvalid && s_axis_tready;
    wire row_end = col == ROW_BEATS - 1;
    wire [LEVEL_BITS-1:0] level = s_axis_tdata[LEVEL_BITS-1:0];

    generate
        if (BITPLANE) begin : planes
            // one memory per plane, one write port each (LUTRAM), read at plane*STRIDE + word
            reg [$clog2(WORD + 1)-1:0] b;
            reg [$clog2(C + 1)-1:0] c;
            wire flush = b == WORD - 1 || c == C - 1;
            wire [WORD-1:0] plane_word [0:STEPS-1];
            genvar p;
            for (p = 0; p < STEPS; p = p + 1) begin : plane
                reg [WORD-1:0] mem [0:WORDS-1];
                reg [WORD-1:0] acc;
                wire [WORD-1:0] next = acc | ({{(WORD-1){1'b0}}, level[STEPS-1-p]} << b);
                always @(posedge clk) begin
                    if (state == S_IDLE)
                        acc <= 0;
                    else if (beat)
                        acc <= flush ? {WORD{1'b0}} : next;
                    if (beat && flush)
                        mem[wa] <= next;
                end
                assign plane_word[p] = mem[rd_addr % STRIDE];
            end
            always @(posedge clk) begin
                if (state == S_IDLE) begin
                    b <= 0;
                    c <= 0;
                    wa <= 0;
                end else if (beat) begin
                    b <= flush ? 0 : b + 1'b1;
                    c <= c == C - 1 ? 0 : c + 1'b1;
                    if (flush) wa <= LINE && wa + 1'b1 == WORDS ? 0 : wa + 1'b1;
                end
            end
            assign rd_data = plane_word[rd_addr / STRIDE];
        end else begin : direct
            reg [LEVEL_BITS-1:0] mem [0:WORDS-1];
            always @(posedge clk) begin
                if (state == S_IDLE)
                    wa <= 0;
                else if (beat)
                    wa <= LINE && wa + 1'b1 == WORDS ? 0 : wa + 1'b1;
                if (beat) mem[wa] <= level;
            end
            assign rd_data = mem[rd_addr];
        end
    endgenerate

    always @(posedge clk) begin
        if (rst) begin
            state <= S_IDLE;
        end else begin
            case (state)
                S_IDLE: if (start) begin
                    state <= S_LOAD;
                    i <= 0;
                    col <= 0;
                    rows_q <= 0;
                end
                S_LOAD: if (beat) begin
                    i <= i + 1'b1;
                    col <= row_end ? 0 : col + 1'b1;
                    if (row_end) rows_q <= rows_q + 1'b1;
                    if (i == N - 1) state <= S_DONE;
                end
                default: state <= S_IDLE;
            endcase
        end
    end
endmodule

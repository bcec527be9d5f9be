// hwflow_encode: the input encoder. Takes one input level per AXI-Stream beat (N beats per sample)
// and keeps the sample for the first layer, read asynchronously:
//   BITPLANE=0 (direct): N signed levels of LEVEL_BITS, address i;
//   BITPLANE=1: STEPS planes of MSB-first bits, address plane*STRIDE + pixel*WPP + word
//               (STRIDE = WORDS rounded up to a power of two: no multiplier in the address);
//               the input is N/C pixels of C channels (channels last), WPP = ceil(C/WORD) words
//               per pixel: channel c's bit STEPS-1-plane is bit c%WORD of the pixel's word c/WORD.
// Cycles from `start` to `done`: N + 1 with a beat every cycle (one more per cycle without tvalid).
module hwflow_encode #(
    parameter N = 4,
    parameter STEPS = 1,
    parameter BITPLANE = 0,
    parameter LEVEL_BITS = 8,
    parameter WORD = 1,
    parameter C = N,            // channels per pixel (a flat input: one pixel of N channels)
    parameter TDATA_BITS = 8,
    parameter WORDS = BITPLANE ? N / C * ((C + WORD - 1) / WORD) : N,
    parameter STRIDE = BITPLANE ? 1 << $clog2(WORDS) : N,  // words per plane in the read address
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
    output wire [DW-1:0] rd_data
);
    localparam S_IDLE = 2'd0, S_LOAD = 2'd1, S_DONE = 2'd2;
    reg [1:0] state;
    reg [$clog2(N + 1)-1:0] i;
    assign done = state == S_DONE;
    assign s_axis_tready = state == S_LOAD;
    wire beat = s_axis_tvalid && s_axis_tready;
    wire [LEVEL_BITS-1:0] level = s_axis_tdata[LEVEL_BITS-1:0];

    generate
        if (BITPLANE) begin : planes
            // one memory per plane, one write port each (LUTRAM), read at plane*STRIDE + word
            reg [$clog2(WORD + 1)-1:0] b;
            reg [$clog2(C + 1)-1:0] c;
            reg [$clog2(WORDS + 1)-1:0] w;
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
                        mem[w] <= next;
                end
                assign plane_word[p] = mem[rd_addr % STRIDE];
            end
            always @(posedge clk) begin
                if (state == S_IDLE) begin
                    b <= 0;
                    c <= 0;
                    w <= 0;
                end else if (beat) begin
                    b <= flush ? 0 : b + 1'b1;
                    c <= c == C - 1 ? 0 : c + 1'b1;
                    if (flush) w <= w + 1'b1;
                end
            end
            assign rd_data = plane_word[rd_addr / STRIDE];
        end else begin : direct
            reg [LEVEL_BITS-1:0] mem [0:N-1];
            always @(posedge clk) if (beat) mem[i] <= level;
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
                end
                S_LOAD: if (beat) begin
                    i <= i + 1'b1;
                    if (i == N - 1) state <= S_DONE;
                end
                default: state <= S_IDLE;
            endcase
        end
    end
endmodule

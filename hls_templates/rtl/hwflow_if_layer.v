// hwflow_if_layer: a layer of integrate-then-fire neurons (or the membrane readout) over an image:
// a 2-D convolution, channels last, LANES output channels per cycle, output pixels one after another.
// A dense layer is the 1x1 case (one input pixel of C_IN channels, one output pixel, a 1x1 kernel).
// The RTL twin of hwflow_if_conv2d.h / hwflow_if_dense.h; conventions of hwflow/ir.py.
//
// Input memory (the producer's): plane t, input row y, column x, word j (IN_WORD channels, channel c
// at bit c % IN_WORD of word c / IN_WORD) at address t*IN_STRIDE + ((y mod IN_RING)*IN_W + x)*IN_WPP + j,
// read asynchronously. A tap outside the image (zero padding) reads as no spikes / level 0, and still
// costs its cycles.
// Output memory (read by the next block): plane tau, output row oy, column ox, group g (LANES channels)
// at tau*OUT_STRIDE + ((oy mod OUT_RING)*OUT_W + ox)*G + g (a power-of-two plane stride: no multiplier).
//
// Rows (line buffers). A memory holds RING rows of its image: the whole frame (RING = height, blocks
// run one after another) or a ring of line buffers (blocks run at once, row by row). Handshake, in
// rows: out_rows = this block's output rows written (0 at start); out_need = the first row its
// consumer still reads (it may write row oy while oy < out_need + OUT_RING); in_rows / in_need the same
// towards the producer. An output row starts (its first pixel's bias load) once the producer has
// written every input row its windows read (all of them if IN_WHOLE) and its ring slot is free; until
// then the block waits, a cycle at a time. in_need = the first input row of the current output row's
// windows (every row once done).
//
// Membranes. For each output pixel: v = bias + sum_t 2^(S-1-t) W.s(t): Horner's v <- 2v + W.s(t)
// with the doubling moved onto the weight (a shift by S-1-t), the same integer after the last
// plane, whatever order the synapses are added in. The bias (with the half-threshold shift) first.
// Firing. T steps per group of LANES neurons: spike when v >= thr<<(T-1-t) (strictly greater at
// the last step: QKeras's round half to even), subtract reset. PO2=1 (quantized_relu_po2): spike at the
// first step with v >= PO2_THR[t] (no shift in the bias), or at the last step; one spike per neuron.
// Weight ROM: row (tap*C_IN + c)*G + g holds W[ky][kx][c][g*LANES+l] at lane l, tap = ky*K_W + kx.
//
// Architectures (EVENT):
//   0 folded: every synapse of every input plane, LANES gated adders per cycle.
//   1 event:  per output pixel, input plane and window tap, only the input channels that spiked:
//             each input word of the window is read; a word without spikes costs 1 cycle, a word
//             with k spikes k*G cycles (one weight row of G groups per spike, lowest channel first
//             by a priority encoder).
//   ANALOG=1 (multi-bit input levels, IN_WORD per memory word): a folded multiply-accumulate in
//             both architectures (a direct first layer; every layer of the ANN).
//   ANN=1: the ANN of the same integer network: instead of firing, one cycle per group gives each
//          neuron its level, floor(v / thr) but a tie (v = k*thr, v holding the bias shift) with k
//          odd goes to k-1 (QKeras's round half to even), clipped to 0..2^T-1, in T+1 bits (PO2: 2^c, c the
//          steps t < T-1 with v >= PO2_THR[t]).
// Cycles from `start` to `done` (P = OUT_H*OUT_W output pixels, G = ceil(N_OUT/LANES), A = K_H*K_W
// taps; checked cycle by cycle in tests/test_rtl.py):
//   P*(G + 1 + F) + sum over pixels of I + 1       (per pixel: bias G, integrate I, last accumulate 1,
//                                                   fire F; then done 1)
//   I = S*A*C_IN*G (folded), A*C_IN*G (analog),
//       sum over planes, taps and input words of the window of max(1, spikes*G) (event);
//   F = T*G (spiking), G (ANN), 0 (readout: the membranes of every pixel are kept and read out).
// Row by row: output row oy takes OUT_W*(G + 1 + F) + (I of its pixels) cycles; with line buffers an
// output row may first wait for its input rows or its ring slot (the schedule: hwflow/rtl/schedule.py).
module hwflow_if_layer #(
    parameter C_IN = 4,          // input channels per pixel (a dense layer: its inputs)
    parameter N_OUT = 4,         // output channels per pixel (filters; a dense layer: its neurons)
    parameter IN_H = 1,
    parameter IN_W = 1,
    parameter OUT_H = 1,
    parameter OUT_W = 1,
    parameter K_H = 1,
    parameter K_W = 1,
    parameter S_H = 1,
    parameter S_W = 1,
    parameter PAD_T = 0,
    parameter PAD_L = 0,
    parameter LANES = 1,
    parameter IN_WORD = 1,      // channels per word of the input memory (the producer's LANES)
    parameter IN_STEPS = 1,     // S: input planes (1 for ANALOG)
    parameter OUT_STEPS = 1,    // T: output planes; 0 = membrane readout
    parameter ANALOG = 0,
    parameter IN_BITS = 1,      // width of an analog input level (signed)
    parameter EVENT = 1,
    parameter ANN = 0,
    parameter W_BITS = 8,
    parameter V_BITS = 16,
    parameter THR_LOG2 = 1,
    parameter THR_SCALE = 1,    // threshold = THR_SCALE << THR_LOG2 (odd THR_SCALE: an average pool's area)
    parameter PO2 = 0,          // 1: a quantized_relu_po2 neuron, fires once against the step thresholds PO2_THR
    parameter PO2_THR = 0,      // step t's threshold at bits t*(V_BITS+1) (signed), t = 0..T-1 (the last unused)
    parameter IN_RING = IN_H,   // input rows the producer's memory holds
    parameter OUT_RING = OUT_H, // output rows this block's memory holds
    parameter IN_ROWS = IN_H,   // the producer's output rows (its image may be relabelled as this one)
    parameter IN_WHOLE = 0,     // 1: start once the producer has written all IN_ROWS (a relabelled image)
    parameter LINE = 0,         // 1: line buffers, the row handshake (0: whole frames, blocks one after another)
    parameter WEIGHT_FILE = "weights.mem",
    parameter BIAS_FILE = "bias.mem",
    parameter LAYER_ID = 0,
    parameter G = (N_OUT + LANES - 1) / LANES,
    parameter P = OUT_H * OUT_W,
    parameter IN_WPP = (C_IN + IN_WORD - 1) / IN_WORD,  // input words per pixel
    parameter IN_WORDS = IN_RING * IN_W * IN_WPP,
    parameter IN_STRIDE = 1 << $clog2(IN_WORDS),  // words per input plane in the producer's memory
    parameter IN_AW = $clog2(IN_STEPS * IN_STRIDE + 1),
    parameter IN_DW = ANALOG ? IN_WORD * IN_BITS : IN_WORD,
    parameter RING_PG = OUT_RING * OUT_W * G,  // output words per plane
    parameter OUT_STRIDE = 1 << $clog2(RING_PG),
    parameter OUT_WORDS = OUT_STEPS == 0 ? P * G : (ANN ? RING_PG : OUT_STEPS * OUT_STRIDE),
    parameter OUT_AW = $clog2(OUT_WORDS + 1),
    parameter OUT_DW = OUT_STEPS == 0 ? LANES * V_BITS : (ANN ? LANES * (OUT_STEPS + 1) : LANES)
) (
    input wire clk,
    input wire rst,
    input wire start,
    output wire done,
    output wire [IN_AW-1:0] in_addr,
    input wire [IN_DW-1:0] in_data,
    input wire [OUT_AW-1:0] out_addr,
    output wire [OUT_DW-1:0] out_data,
    input wire [15:0] in_rows,
    output wire [15:0] in_need,
    output wire [15:0] out_rows,
    input wire [15:0] out_need
);
    reg [15:0] rows_q;  // output rows written (the handshake's out_rows with LINE)
    assign out_rows = LINE ? rows_q : 16'd0;
    localparam S_IDLE = 3'd0, S_INIT = 3'd1, S_INTEG = 3'd2, S_DRAIN = 3'd3, S_FIRE = 3'd4, S_DONE = 3'd5;
    localparam T = OUT_STEPS == 0 ? 1 : OUT_STEPS;
    localparam FIRE_STEPS = ANN ? 1 : T;  // cycles per group in S_FIRE
    localparam A = K_H * K_W;
    localparam ROWS = A * C_IN * G;
    localparam RAW = $clog2(ROWS + 1);
    localparam GW = $clog2(G + 1);
    localparam BW = $clog2(IN_WORD + 1);
    localparam PGW = $clog2(P * G + 1);
    localparam V_DEPTH = OUT_STEPS == 0 ? P * G : G;  // the readout keeps every pixel's membranes
    localparam [V_BITS-1:0] THR_UNIT = THR_SCALE;

    reg [2:0] state;
    assign done = state == S_DONE;

    reg [LANES*W_BITS-1:0] wrom [0:ROWS-1];  // synchronous read: BRAM or LUTRAM
    reg [LANES*V_BITS-1:0] brom [0:G-1];
    initial begin
        $readmemh(WEIGHT_FILE, wrom);
        $readmemh(BIAS_FILE, brom);
    end

    // Output pixel counters.
    reg [$clog2(OUT_H + 1)-1:0] oy;
    reg [$clog2(OUT_W + 1)-1:0] ox;
    reg [PGW-1:0] pg;                       // p * G: the pixel's first group
    wire last_pixel = oy == OUT_H - 1 && ox == OUT_W - 1;

    // Issue stage counters.
    reg [GW-1:0] g;
    reg [$clog2(IN_STEPS + 1)-1:0] t;
    reg [$clog2(K_H + 1)-1:0] ky;
    reg [$clog2(K_W + 1)-1:0] kx;
    reg [$clog2(IN_WPP + 1)-1:0] w;         // input word within the pixel
    reg [BW-1:0] b;                         // input within the word (folded, analog)
    reg [IN_AW-1:0] plane_base;             // t * IN_STRIDE
    reg [RAW-1:0] row;                      // weight row of the issue (folded, analog: sequential)
    reg [RAW-1:0] tap_row;                  // tap * C_IN * G (event)
    reg [RAW-1:0] word_row;                 // (tap * C_IN + w * IN_WORD) * G (event)
    reg [IN_WORD-1:0] rest;                 // spikes of the current word still to process (event)
    reg fresh;                              // the current word is still to be read from memory (event)

    // The input pixel of the tap and whether it lies inside the image, kept by additions of constants
    // (no multiplier), signed (the window may reach into the padding): the window's corner (iy0, ix0);
    // the row bases of the window's first row, r0, and of the tap's row, trow (row y at y*ROW_WORDS, or
    // in a ring at (y mod IN_RING)*ROW_WORDS); the column words c0 = ix0*IN_WPP and tcol = kx*IN_WPP.
    localparam ROW_WORDS = IN_W * IN_WPP;
    localparam RING_WORDS = IN_RING * ROW_WORDS;
    localparam IN_WRAP = IN_RING < IN_H;  // a ring: row bases wrap at RING_WORDS
    localparam integer R0 = IN_WRAP ? ((IN_RING - PAD_T % IN_RING) % IN_RING) * ROW_WORDS : -PAD_T * ROW_WORDS;
    localparam integer NEXT_R = S_H * ROW_WORDS;
    localparam SW = $clog2(IN_H * IN_W * IN_WPP + IN_H + IN_W + 1) + 3;
    reg signed [SW-1:0] iy0, ix0, c0, tcol, r0, trow;
    wire signed [SW-1:0] r0_next = r0 + NEXT_R;
    wire signed [SW-1:0] trow_next = trow + ROW_WORDS;
    wire signed [SW-1:0] iy = iy0 + $signed({1'b0, ky});
    wire signed [SW-1:0] ix = ix0 + $signed({1'b0, kx});
    wire in_image = iy >= 0 && iy < IN_H && ix >= 0 && ix < IN_W;
    wire signed [SW-1:0] pix_word = trow + c0 + tcol + $signed({1'b0, w});
    wire [IN_AW-1:0] pix_addr = in_image ? pix_word[IN_AW-1:0] : {IN_AW{1'b0}};
    assign in_addr = plane_base + pix_addr;
    wire [IN_DW-1:0] data = in_image ? in_data : {IN_DW{1'b0}};

    // Row handshake (LINE): may the next output row start (in S_INIT, at its first pixel's first group)?
    wire signed [SW-1:0] rows_read = iy0 + K_H;  // the input rows the row's windows read end here
    wire in_ready = IN_WHOLE ? in_rows >= IN_ROWS : (in_rows >= IN_H || $signed({1'b0, in_rows}) >= rows_read);
    wire [16:0] slots = out_need + OUT_RING;     // output rows it may have written
    wire out_free = OUT_STEPS == 0 || oy < slots;
    wire hold = LINE && state == S_INIT && ox == 0 && g == 0 && !(in_ready && out_free);
    wire [15:0] first_row = IN_WHOLE || iy0 < 0 ? 16'd0 : iy0;  // of the current output row's windows
    assign in_need = !LINE || state == S_IDLE || state == S_DONE ? IN_ROWS : first_row;

    wire [IN_WORD-1:0] word = fresh ? data[IN_WORD-1:0] : rest;
    // lowest set bit of the word (event)
    reg [BW-1:0] low;
    integer k;
    always @(*) begin
        low = 0;
        for (k = IN_WORD - 1; k >= 0; k = k - 1)
            if (word[k]) low = k[BW-1:0];
    end
    wire [IN_WORD-1:0] cleared = word & (word - 1'b1);
    // the last issue of an input word (folded: of an input; analog: of an input level)
    localparam LAST_B = (C_IN - 1) % IN_WORD;  // the last input of a pixel's last word
    wire word_done = ANALOG || !EVENT ? g == G - 1 && (b == IN_WORD - 1 || (w == IN_WPP - 1 && b == LAST_B))
                                      : word == 0 || (g == G - 1 && cleared == 0);
    wire tap_done = word_done && w == IN_WPP - 1;
    wire plane_done = tap_done && ky == K_H - 1 && kx == K_W - 1;

    // What the issue stage hands to the accumulate stage (one cycle later, with the ROM word).
    reg issue;
    reg [RAW-1:0] issue_row;
    reg issue_bit;
    always @(*) begin
        issue = 1'b0;
        issue_row = row;
        issue_bit = 1'b1;
        if (state == S_INTEG) begin
            if (ANALOG) begin
                issue = 1'b1;
            end else if (EVENT) begin
                issue = word != 0;
                issue_row = word_row + low * G + g;
            end else begin
                issue = 1'b1;
                issue_bit = data[b];
            end
        end
    end

    reg acc_valid;
    reg acc_bit;
    reg [GW-1:0] acc_g;
    reg [4:0] acc_shift;
    reg signed [IN_BITS-1:0] acc_x;
    reg [LANES*W_BITS-1:0] acc_w;
    always @(posedge clk) begin
        acc_w <= wrom[issue_row];
        acc_valid <= issue && !rst;
        acc_bit <= issue_bit;
        acc_g <= g;
        acc_shift <= IN_STEPS - 1 - t;
        acc_x <= ANALOG ? data[b*IN_BITS +: IN_BITS] : 0;
    end

    // Membranes, LANES per group: asynchronous read, one write per cycle (LUTRAM or registers).
    reg [GW-1:0] fire_g;
    reg [$clog2(T + 1)-1:0] tau;
    wire [LANES-1:0] spikes;
    reg [LANES-1:0] planes [0:(OUT_STEPS == 0 || ANN ? 1 : OUT_STEPS * OUT_STRIDE) - 1];
    reg [LANES*(T+1)-1:0] levels [0:(ANN ? RING_PG : 1) - 1];
    wire [LANES*(T+1)-1:0] level_word;
    wire [PGW-1:0] v_base = OUT_STEPS == 0 ? pg : 0;
    wire [PGW-1:0] v_addr = v_base + (state == S_INIT ? g : (state == S_FIRE ? fire_g : acc_g));
    wire [LANES*V_BITS-1:0] v_group;
    genvar l;
    generate
        for (l = 0; l < LANES; l = l + 1) begin : lane
            reg signed [V_BITS-1:0] vmem [0:V_DEPTH-1];
            wire signed [V_BITS-1:0] v = vmem[v_addr];
            reg signed [V_BITS-1:0] residual;
            wire signed [W_BITS-1:0] wt = acc_w[l*W_BITS +: W_BITS];
            wire signed [V_BITS-1:0] term;
            if (ANALOG) begin : mac
                assign term = acc_x * wt;
            end else begin : gated
                wire signed [V_BITS-1:0] wide = wt;
                assign term = acc_bit ? wide <<< acc_shift : {V_BITS{1'b0}};
            end
            // firing: the membrane (first step) or the residual, against thr << (T-1-tau), subtract reset; a po2
            // neuron fires once, at the first step whose threshold it reaches or at the last, then parks at the
            // most negative value, which no membrane reaches (hls_templates/hwflow_if_neuron.h po2_fire_step)
            wire signed [V_BITS-1:0] level = tau == 0 ? v : residual;
            wire signed [V_BITS:0] thr;
            wire fires;
            wire signed [V_BITS-1:0] after;
            if (PO2) begin : po2_neuron
                localparam [V_BITS-1:0] PARKED = {1'b1, {(V_BITS-1){1'b0}}};
                assign thr = PO2_THR[tau*(V_BITS+1) +: V_BITS+1];
                assign fires = tau == T - 1 ? level != PARKED : $signed({level[V_BITS-1], level}) >= thr;
                assign after = fires ? PARKED : level;
            end else begin : if_neuron
                assign thr = $signed({1'b0, THR_UNIT << (THR_LOG2 + T - 1 - tau)});
                assign fires = tau == T - 1 ? $signed({level[V_BITS-1], level}) > thr
                                            : $signed({level[V_BITS-1], level}) >= thr;
                assign after = fires ? level - thr[V_BITS-1:0] : level;
            end
            always @(posedge clk) begin
                if (state == S_INIT)
                    vmem[v_addr] <= brom[g][l*V_BITS +: V_BITS];
                else if (acc_valid)
                    vmem[v_addr] <= v + term;
                if (state == S_FIRE)
                    residual <= after;
            end
            // a lane past N_OUT (the last group's padding) never spikes: a po2 neuron would fire once even
            // there, and an event consumer would read its spike as an input channel that does not exist
            if ((G - 1) * LANES + l >= N_OUT) begin : padding
                assign spikes[l] = fires && fire_g != G - 1;
            end else begin : real_lane
                assign spikes[l] = fires;
            end
            // ANN: the level of v, half to even, clipped (v already holds the half-threshold shift):
            // q = v / threshold (a shift; a constant divider for THR_SCALE > 1, exact where v >= 0, and a
            // negative v clips to 0 either way), a tie when the remainder is 0 and q odd.
            wire signed [V_BITS-1:0] q;
            wire exact;
            if (THR_SCALE == 1) begin : shift
                assign q = v >>> THR_LOG2;
                assign exact = THR_LOG2 == 0 || v[THR_LOG2 == 0 ? 0 : THR_LOG2-1:0] == 0;
            end else begin : divide
                localparam signed [V_BITS:0] THR_ANN = THR_SCALE << THR_LOG2;
                wire signed [V_BITS:0] wide_v = v;
                wire signed [V_BITS:0] quotient = wide_v / THR_ANN;
                assign q = quotient[V_BITS-1:0];
                assign exact = wide_v % THR_ANN == 0;
            end
            wire tie = exact && q[0] && THR_LOG2 != 0;
            wire signed [V_BITS-1:0] k = q - tie;
            if (PO2) begin : po2_level  // 2^c, c = the steps whose threshold v reaches
                reg [T:0] k_po2;
                integer i;
                always @* begin
                    k_po2 = 1;
                    for (i = 0; i < T - 1; i = i + 1)
                        if ($signed({v[V_BITS-1], v}) >= $signed(PO2_THR[i*(V_BITS+1) +: V_BITS+1]))
                            k_po2 = k_po2 << 1;
                end
                assign level_word[l*(T+1) +: T+1] = k_po2;
            end else begin : if_level
                assign level_word[l*(T+1) +: T+1] = k < 0 ? 0 : (k > (1 << T) - 1 ? (1 << T) - 1 : k[T:0]);
            end
`ifndef SYNTHESIS
            always @(posedge clk)  // trace: the membrane before firing (output pixel, channel)
                if (!rst && !ANN && state == S_FIRE && tau == 0 && fire_g * LANES + l < N_OUT && $test$plusargs("trace"))
                    $display("V %0d %0d %0d %0d", LAYER_ID, oy * OUT_W + ox, fire_g * LANES + l, v);
`endif
            assign v_group[l*V_BITS +: V_BITS] = OUT_STEPS == 0 ? vmem[out_addr[PGW-1:0]] : v;
        end
    endgenerate

    generate
        if (OUT_STEPS == 0) begin : readout
            assign out_data = v_group;
        end else if (ANN) begin : requantized
            assign out_data = levels[out_addr];
            always @(posedge clk)
                if (state == S_FIRE) levels[pg + fire_g] <= level_word;
        end else begin : spiking
            assign out_data = planes[out_addr];
            always @(posedge clk)
                if (state == S_FIRE) planes[tau * OUT_STRIDE + pg + fire_g] <= spikes;
        end
    endgenerate

    // Control.
    always @(posedge clk) begin
        if (rst) begin
            state <= S_IDLE;
        end else begin
            case (state)
                S_IDLE: if (start) begin
                    state <= S_INIT;
                    g <= 0;
                    oy <= 0;
                    ox <= 0;
                    pg <= 0;
                    iy0 <= -PAD_T;
                    ix0 <= -PAD_L;
                    r0 <= R0;
                    c0 <= -PAD_L * IN_WPP;
                    rows_q <= 0;
                end
                S_INIT: if (!hold) begin
                    g <= g + 1'b1;
                    if (g == G - 1) begin
                        state <= S_INTEG;
                        g <= 0;
                        t <= 0;
                        ky <= 0;
                        kx <= 0;
                        trow <= r0;
                        tcol <= 0;
                        w <= 0;
                        b <= 0;
                        plane_base <= 0;
                        row <= 0;
                        tap_row <= 0;
                        word_row <= 0;
                        rest <= 0;
                        fresh <= 1'b1;
                    end
                end
                S_INTEG: begin
                    if (ANALOG || !EVENT) begin
                        // sweep (t, tap, input, g); row = (tap * C_IN + input) * G + g
                        row <= row + 1'b1;
                        g <= g == G - 1 ? 0 : g + 1'b1;
                        if (g == G - 1) b <= b + 1'b1;
                    end else begin
                        // event: the spikes of word w of the tap's pixel in plane t, G groups each
                        fresh <= 1'b0;
                        g <= word != 0 && g != G - 1 ? g + 1'b1 : 0;
                        rest <= word != 0 && g != G - 1 ? word : cleared;
                    end
                    if (word_done) begin
                        b <= 0;
                        w <= w + 1'b1;
                        word_row <= word_row + IN_WORD * G;
                        fresh <= 1'b1;
                    end
                    if (tap_done) begin
                        w <= 0;
                        kx <= kx == K_W - 1 ? 0 : kx + 1'b1;
                        if (kx == K_W - 1) begin
                            ky <= ky + 1'b1;
                            trow <= IN_WRAP && trow_next >= RING_WORDS ? trow_next - RING_WORDS : trow_next;
                        end
                        tcol <= kx == K_W - 1 ? 0 : tcol + IN_WPP;
                        tap_row <= tap_row + C_IN * G;
                        word_row <= tap_row + C_IN * G;
                    end
                    if (plane_done) begin
                        ky <= 0;
                        kx <= 0;
                        trow <= r0;
                        tcol <= 0;
                        row <= 0;
                        tap_row <= 0;
                        word_row <= 0;
                        t <= t + 1'b1;
                        plane_base <= plane_base + IN_STRIDE;
                        if (t == IN_STEPS - 1) state <= S_DRAIN;
                    end
                end
                S_DRAIN: begin
                    fire_g <= 0;
                    tau <= 0;
                    g <= 0;
                    state <= OUT_STEPS != 0 ? S_FIRE : (last_pixel ? S_DONE : S_INIT);
                end
                S_FIRE: begin
                    tau <= tau + 1'b1;
                    if (tau == FIRE_STEPS - 1) begin
                        tau <= 0;
                        fire_g <= fire_g + 1'b1;
                        if (fire_g == G - 1) state <= last_pixel ? S_DONE : S_INIT;
                    end
                end
                default: state <= S_IDLE;  // S_DONE: one cycle
            endcase
            // the next output pixel, once this one has fired (or been integrated, for the readout)
            if ((state == S_FIRE && tau == FIRE_STEPS - 1 && fire_g == G - 1) || (state == S_DRAIN && OUT_STEPS == 0)) begin
                ox <= ox == OUT_W - 1 ? 0 : ox + 1'b1;
                if (ox == OUT_W - 1) oy <= oy + 1'b1;
                pg <= OUT_RING < OUT_H && pg + G == RING_PG ? 0 : pg + G;
                ix0 <= ox == OUT_W - 1 ? -PAD_L : ix0 + S_W;
                c0 <= ox == OUT_W - 1 ? -PAD_L * IN_WPP : c0 + S_W * IN_WPP;
                if (ox == OUT_W - 1) begin
                    iy0 <= iy0 + S_H;
                    rows_q <= rows_q + 1'b1;
                    if (OUT_H > 1) r0 <= IN_WRAP && r0_next >= RING_WORDS ? r0_next - RING_WORDS : r0_next;
                end
            end
        end
    end

`ifndef SYNTHESIS
    // Trace (simulation only, +trace): each group's spike word per step (its membranes: in `lane`).
    always @(posedge clk)
        if (!rst && !ANN && state == S_FIRE && $test$plusargs("trace"))
            $display("S %0d %0d %0d %0d %b", LAYER_ID, tau, oy * OUT_W + ox, fire_g, spikes);
`endif
endmodule
